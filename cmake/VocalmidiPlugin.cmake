# What every VocalMIDI plugin target shares (the effect in plugin/processor, the instrument in
# plugin/instrument): the same processor sources built with the same JUCE settings, our ONNX
# Runtime shipped beside each binary, and the bundles installed into vocalmidi_native/plugins.
include_guard(GLOBAL)

# vocalmidi_setup_plugin(<target> LV2_URI <uri> FORMATS <formats...>)
# <target> is a juce_add_plugin target whose sources are already added.
function(vocalmidi_setup_plugin target)
  cmake_parse_arguments(ARG "" "LV2_URI" "FORMATS" ${ARGN})
  target_compile_definitions(${target} PUBLIC
    # Debian's JUCE does not forward LV2URI into the shared code (only the LV2 wrapper).
    JucePlugin_LV2URI="${ARG_LV2_URI}"
    JUCE_VST3_CAN_REPLACE_VST2=0
    JUCE_USE_FLAC=0
    JUCE_USE_OGGVORBIS=0
    JUCE_USE_MP3AUDIOFORMAT=0
    JUCE_USE_LAME_AUDIO_FORMAT=0
    JUCE_USE_WINDOWS_MEDIA_FORMAT=0
    JUCE_JACK=1
    JUCE_ALSA=1)

  # The engine's lock-free ring (header only) carries VirtualMidiOut's events.
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}/engine/src")
  target_link_libraries(${target}
    PRIVATE
      vocalmidi_engine
      vocalmidi_juce_options
      juce::juce_audio_utils
      juce::juce_audio_processors
      juce::juce_gui_basics
      ${CMAKE_DL_LIBS}  # VirtualMidiOut opens libjack at run time
    PUBLIC
      juce::juce_recommended_config_flags
      juce::juce_recommended_warning_flags)

  foreach(_fmt ${ARG_FORMATS})
    if(_fmt STREQUAL "AU")
      continue()
    endif()
    vocalmidi_ship_onnxruntime(${target}_${_fmt})
    # Bundles are installed by copying: keep build-tree paths out of their RUNPATH ($ORIGIN
    # alone finds the library copied beside them).
    set_target_properties(${target}_${_fmt} PROPERTIES BUILD_WITH_INSTALL_RPATH TRUE)
  endforeach()

  # Install: bundles as folders (with our ONNX Runtime inside, next to the binary).
  foreach(_fmt VST3 LV2 AU)
    if(_fmt IN_LIST ARG_FORMATS)
      get_target_property(_artefact ${target}_${_fmt} JUCE_PLUGIN_ARTEFACT_FILE)
      install(DIRECTORY "${_artefact}" DESTINATION "${VOCALMIDI_NATIVE_DEST}/plugins"
              USE_SOURCE_PERMISSIONS)
    endif()
  endforeach()
endfunction()
