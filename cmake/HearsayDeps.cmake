# Third-party dependencies as imported interface targets (hs_dep_*). All are
# Debian 12 packages installed by scripts/setup.sh.
find_package(PkgConfig REQUIRED)

pkg_check_modules(HS_PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c>=1.3)
pkg_check_modules(HS_SODIUM    REQUIRED IMPORTED_TARGET libsodium>=1.0.18)

find_program(HS_PROTOC_C NAMES protoc-c protoc-gen-c REQUIRED)

# libev ships no pkg-config file on Debian; find it by header and library.
find_path(HS_EV_INCLUDE ev.h PATH_SUFFIXES libev REQUIRED)
find_library(HS_EV_LIBRARY ev REQUIRED)

add_library(hs_dep_protobufc INTERFACE)
target_link_libraries(hs_dep_protobufc INTERFACE PkgConfig::HS_PROTOBUFC)
add_library(hs_dep_sodium INTERFACE)
target_link_libraries(hs_dep_sodium INTERFACE PkgConfig::HS_SODIUM)
add_library(hs_dep_ev INTERFACE)
target_include_directories(hs_dep_ev INTERFACE ${HS_EV_INCLUDE})
target_link_libraries(hs_dep_ev INTERFACE ${HS_EV_LIBRARY})

if(HS_BUILD_TESTS)
  pkg_check_modules(HS_CMOCKA REQUIRED IMPORTED_TARGET cmocka>=1.1)
  add_library(hs_dep_cmocka INTERFACE)
  target_link_libraries(hs_dep_cmocka INTERFACE PkgConfig::HS_CMOCKA)
endif()
