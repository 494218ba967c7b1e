# Install rules: the one public header, the libraries, hearsay.pc and a CMake
# package so both `pkg-config hearsay` and `find_package(hearsay)` work.
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/include/hearsay.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${HS_LIB_TARGETS} EXPORT hearsayTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT hearsayTargets NAMESPACE hearsay::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearsay)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hearsayConfig.cmake.in
  ${PROJECT_BINARY_DIR}/hearsayConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearsay)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/hearsayConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/hearsayConfig.cmake
              ${PROJECT_BINARY_DIR}/hearsayConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hearsay)

# hearsay.pc finds its prefix relative to itself (${pcfiledir}), so an
# install with `cmake --install --prefix DIR`, or a copied tree, still works.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(HS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH HS_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" HS_PC_UP "${HS_PC_UP}")
  set(HS_PC_PREFIX "\${pcfiledir}/${HS_PC_UP}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/hearsay.pc.in
               ${PROJECT_BINARY_DIR}/hearsay.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/hearsay.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
