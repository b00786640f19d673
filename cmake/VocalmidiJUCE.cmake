# JUCE: the system's config where installed; on Debian/Ubuntu without it, the
# juce-modules-source packages fetched and unpacked into the build tree; elsewhere (macOS,
# Windows) JUCE's public repository at the same version.
include_guard(GLOBAL)

set(VOCALMIDI_JUCE_VERSION 7.0.5)
find_package(JUCE CONFIG QUIET)

if(NOT JUCE_FOUND AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  set(_juce_root "${VOCALMIDI_DEPS_DIR}/juce-deb")
  vocalmidi_fetch_deb("${_juce_root}" system juce-modules-source juce-modules-source-data)
  file(GLOB _juce_cfg_dir "${_juce_root}/root/usr/lib/*/cmake/JUCE-*")
  if(NOT _juce_cfg_dir)
    vocalmidi_fail("JUCE's CMake config in the juce-modules-source package"
                   "apt-get install juce-modules-source")
  endif()
  # The packaged config names absolute /usr paths: point them into the unpacked tree.
  if(NOT EXISTS "${_juce_root}/.relocated")
    file(GLOB _cfg_files "${_juce_cfg_dir}/*.cmake")
    foreach(f ${_cfg_files})
      file(READ "${f}" txt)
      string(REPLACE "\"/usr/" "\"${_juce_root}/root/usr/" txt "${txt}")
      string(REPLACE "set(PACKAGE_PREFIX_DIR \"/usr\")" "set(PACKAGE_PREFIX_DIR \"${_juce_root}/root/usr\")" txt "${txt}")
      file(WRITE "${f}" "${txt}")
    endforeach()
    file(WRITE "${_juce_root}/.relocated" "")
  endif()
  set(JUCE_DIR "${_juce_cfg_dir}" CACHE PATH "JUCE config" FORCE)
  find_package(JUCE CONFIG REQUIRED)
elseif(NOT JUCE_FOUND)
  include(FetchContent)
  FetchContent_Declare(JUCE GIT_REPOSITORY https://github.com/juce-framework/JUCE.git
                            GIT_TAG ${VOCALMIDI_JUCE_VERSION} GIT_SHALLOW TRUE)
  FetchContent_MakeAvailable(JUCE)
endif()

# Fixes to the JUCE 7.0.5 copy this build fetched (a system-wide JUCE is left alone), each a
# plain text replacement that is skipped once applied:
# - the VST3 wrapper copies a channel mapping (it holds a std::vector) for every input bus of
#   every block: one malloc and one free on the audio thread per block, in every host (found
#   by `vocalmidi dawtest`'s heap-call counter). Bind it by reference instead.
# - a VST3 host that sends more samples than the maxSamplesPerBlock it announced makes the
#   wrapper copy past the end of its scratch buffers (heap corruption before our processBlock
#   runs; dawtest's block-oversized). Grow them instead: one allocation, as JUCE's LV2 wrapper
#   does; our processBlock already works in chunks of the prepared size.
function(vocalmidi_patch_file file old new)
  if(EXISTS "${file}")
    file(READ "${file}" _txt)
    string(FIND "${_txt}" "${new}" _done)
    if(_done EQUAL -1)
      string(REPLACE "${old}" "${new}" _patched "${_txt}")
      if(NOT _patched STREQUAL _txt)
        file(WRITE "${file}" "${_patched}")
      endif()
    endif()
  endif()
endfunction()
function(vocalmidi_patch_juce modules_dir)
  vocalmidi_patch_file("${modules_dir}/juce_audio_processors/format_types/juce_VST3Common.h"
    "const auto mapping = map[busIndex];" "const auto& mapping = map[busIndex];")
  set(_flush "// If all of these are zero, the host is attempting to flush parameters")
  vocalmidi_patch_file("${modules_dir}/juce_audio_plugin_client/VST3/juce_VST3_Wrapper.cpp"
    "${_flush}"
    "if (data.numSamples > processSetup.maxSamplesPerBlock) { processSetup.maxSamplesPerBlock = data.numSamples; bufferMapper.prepare ((int) data.numSamples); } ${_flush}")
endfunction()
if(EXISTS "${VOCALMIDI_DEPS_DIR}/juce-deb/root/usr/share/juce/modules")
  vocalmidi_patch_juce("${VOCALMIDI_DEPS_DIR}/juce-deb/root/usr/share/juce/modules")
elseif(juce_SOURCE_DIR)
  vocalmidi_patch_juce("${juce_SOURCE_DIR}/modules")
endif()

# Settings every JUCE target of ours shares (the plugin and the headless host).
add_library(vocalmidi_juce_options INTERFACE)
target_compile_definitions(vocalmidi_juce_options INTERFACE
  JUCE_WEB_BROWSER=0
  JUCE_USE_CURL=0
  JUCE_VST3_EMULATE_MIDI_CC_WITH_PARAMETERS=0
  JUCE_DISPLAY_SPLASH_SCREEN=0
  JUCE_REPORT_APP_USAGE=0
  JUCE_MODAL_LOOPS_PERMITTED=0
  JUCE_STRICT_REFCOUNTEDPOINTER=1)
