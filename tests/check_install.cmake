# Installs into a scratch prefix and checks that the binary, man page and completions land where
# Debian expects them. Run by ctest as the "install" test.
set(prefix "${BUILD_DIR}/install-check")
file(REMOVE_RECURSE "${prefix}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(f bin/sessionctl share/man/man1/sessionctl.1 share/bash-completion/completions/sessionctl
          share/zsh/vendor-completions/_sessionctl share/fish/vendor_completions.d/sessionctl.fish)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
  file(SIZE "${prefix}/${f}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "installed but empty: ${f}")
  endif()
endforeach()
message(STATUS "install layout ok")
