# Compile and link flags shared by every hearsay target, as one interface
# library. Linking hs_build_flags PRIVATE is how a target opts in.
# -Wpedantic keeps the code ISO C11 (with _GNU_SOURCE's functions), so
# another compiler or a stricter build does not find what ours let by.
add_library(hs_build_flags INTERFACE)
target_compile_options(hs_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wno-unused-parameter -fno-strict-aliasing)
target_compile_definitions(hs_build_flags INTERFACE _GNU_SOURCE)
if(HS_WERROR)
  target_compile_options(hs_build_flags INTERFACE -Werror)
endif()

# Sanitizers apply to the library and to every test; recover is off so the
# first report fails the test instead of scrolling by.
set(HS_SAN_FLAGS)
if(HS_SANITIZE)
  list(APPEND HS_SAN_FLAGS -fsanitize=address,undefined
       -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()
if(HS_TSAN)
  if(HS_SANITIZE OR HS_FUZZ)
    message(FATAL_ERROR "HS_TSAN cannot be combined with HS_SANITIZE or HS_FUZZ")
  endif()
  # For the runtime's own-thread mode and resolver thread (tests/unit/
  # test_node_thread.c runs several nodes on their own threads under
  # concurrent callers). libev itself is not instrumented; every field it does not own
  # is guarded by the node's mutex.
  list(APPEND HS_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
endif()
if(HS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HS_FUZZ needs clang: configure with CC=clang")
  endif()
  # Library code gets coverage instrumentation; the fuzz executables add
  # -fsanitize=fuzzer themselves (tests/fuzz).
  list(APPEND HS_SAN_FLAGS -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()
list(REMOVE_DUPLICATES HS_SAN_FLAGS)
if(HS_SAN_FLAGS)
  target_compile_options(hs_build_flags INTERFACE ${HS_SAN_FLAGS})
  target_link_options(hs_build_flags INTERFACE ${HS_SAN_FLAGS})
endif()

# Parts include each other as "wire/wire.h", "detector/phi.h", ... from the
# source root; the public header comes from include/.
target_include_directories(hs_build_flags INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>)
