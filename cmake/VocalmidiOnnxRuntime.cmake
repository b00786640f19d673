# ONNX Runtime for the engine.
#
# Library: from the pinned PyPI `onnxruntime` wheel (or ONNXRUNTIME_ROOT), copied into the
# build tree under our own SONAME so that another copy already loaded in a host (a DAW
# often has one) cannot be picked instead of ours; it ships next to each binary that
# needs it, found through RPATH $ORIGIN.
# Headers: Debian trixie's libonnxruntime-dev (1.21); the C API is versioned, so older
# headers work with a newer library.
include_guard(GLOBAL)

set(_ort_dir "${VOCALMIDI_DEPS_DIR}/onnxruntime-${VOCALMIDI_ORT_VERSION}")
set(VOCALMIDI_ORT_SONAME "libvocalmidi_onnxruntime.so")
set(VOCALMIDI_ORT_LIBRARY "${_ort_dir}/lib/${VOCALMIDI_ORT_SONAME}" CACHE INTERNAL "")

find_program(PATCHELF patchelf)
if(NOT PATCHELF)
  vocalmidi_fail("patchelf (to rename ONNX Runtime's SONAME)" "apt-get install patchelf")
endif()

if(ONNXRUNTIME_ROOT)
  find_path(_ort_include onnxruntime_cxx_api.h
            PATHS "${ONNXRUNTIME_ROOT}/include" "${ONNXRUNTIME_ROOT}/include/onnxruntime" NO_DEFAULT_PATH)
  file(GLOB _ort_src "${ONNXRUNTIME_ROOT}/lib/libonnxruntime.so*")
  list(SORT _ort_src)
  list(GET _ort_src -1 _ort_src)
  if(NOT _ort_include OR NOT _ort_src)
    vocalmidi_fail("ONNX Runtime headers or library under ONNXRUNTIME_ROOT=${ONNXRUNTIME_ROOT}"
                   "point it at a folder with include/onnxruntime_cxx_api.h and lib/libonnxruntime.so")
  endif()
  set(_ort_include_dir "${_ort_include}")
else()
  # Headers from Debian trixie's -dev package.
  vocalmidi_fetch_deb("${VOCALMIDI_DEPS_DIR}/onnxruntime-headers" trixie libonnxruntime-dev)
  set(_ort_include_dir "${VOCALMIDI_DEPS_DIR}/onnxruntime-headers/root/usr/include/onnxruntime")
  # Library from the pinned wheel.
  set(_ort_src "${_ort_dir}/wheel/onnxruntime/capi/libonnxruntime.so.${VOCALMIDI_ORT_VERSION}")
  if(NOT EXISTS "${_ort_src}")
    if(NOT Python3_Interpreter_FOUND)
      vocalmidi_fail("a Python interpreter with pip (to fetch the onnxruntime wheel)"
                     "apt-get install python3-pip, or use -DONNXRUNTIME_ROOT")
    endif()
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" -m pip download --quiet --no-deps --only-binary=:all:
              "onnxruntime==${VOCALMIDI_ORT_VERSION}" -d "${_ort_dir}/download"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
    file(GLOB _whl "${_ort_dir}/download/onnxruntime-${VOCALMIDI_ORT_VERSION}-*.whl")
    if(NOT rc EQUAL 0 OR NOT _whl)
      vocalmidi_fail("the onnxruntime ${VOCALMIDI_ORT_VERSION} wheel: ${err}"
                     "check access to the Python package index (pip download onnxruntime==${VOCALMIDI_ORT_VERSION}), or use -DONNXRUNTIME_ROOT")
    endif()
    list(GET _whl 0 _whl)
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" -c
        "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"
        "${_whl}" "onnxruntime/capi/libonnxruntime.so.${VOCALMIDI_ORT_VERSION}" "${_ort_dir}/wheel"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      vocalmidi_fail("libonnxruntime.so.${VOCALMIDI_ORT_VERSION} inside ${_whl}: ${err}"
                     "delete ${_ort_dir} and configure again")
    endif()
  endif()
endif()

if(NOT EXISTS "${VOCALMIDI_ORT_LIBRARY}" OR "${_ort_src}" IS_NEWER_THAN "${VOCALMIDI_ORT_LIBRARY}")
  file(MAKE_DIRECTORY "${_ort_dir}/lib")
  file(COPY_FILE "${_ort_src}" "${VOCALMIDI_ORT_LIBRARY}")
  execute_process(COMMAND "${PATCHELF}" --set-soname "${VOCALMIDI_ORT_SONAME}" "${VOCALMIDI_ORT_LIBRARY}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    vocalmidi_fail("a working patchelf" "apt-get install patchelf")
  endif()
endif()

add_library(vocalmidi_onnxruntime SHARED IMPORTED GLOBAL)
set_target_properties(vocalmidi_onnxruntime PROPERTIES
  IMPORTED_LOCATION "${VOCALMIDI_ORT_LIBRARY}"
  IMPORTED_SONAME "${VOCALMIDI_ORT_SONAME}"
  INTERFACE_INCLUDE_DIRECTORIES "${_ort_include_dir}")
add_library(vocalmidi::onnxruntime ALIAS vocalmidi_onnxruntime)
message(STATUS "VocalMIDI: ONNX Runtime ${VOCALMIDI_ORT_VERSION} from ${_ort_src}")

# vocalmidi_ship_onnxruntime(TARGET): put our ONNX Runtime next to TARGET's binary before it
# links (JUCE's LV2 helper loads the plugin right after linking) and make TARGET find it
# through $ORIGIN.
function(vocalmidi_ship_onnxruntime target)
  set_target_properties(${target} PROPERTIES BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN")
  add_custom_command(TARGET ${target} PRE_LINK
    COMMAND ${CMAKE_COMMAND} -E make_directory "$<TARGET_FILE_DIR:${target}>"
    COMMAND ${CMAKE_COMMAND} -E copy_if_different "${VOCALMIDI_ORT_LIBRARY}" "$<TARGET_FILE_DIR:${target}>/"
    VERBATIM)
endfunction()
