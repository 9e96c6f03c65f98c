# cmake/install.cmake: `cmake --install build [--prefix P]` installs
# ember-server, ember-cli, and libember (ember_client with the ember_shm and
# ember_protocol libraries it needs, and their headers under
# include/ember/), with a package config so that another CMake project can
#   find_package(Ember REQUIRED)
#   target_link_libraries(app PRIVATE Ember::ember_client)
# and #include <ember/client/local_client.h> (or <ember/client/ember.h> in C).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS ember-server ember-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ember_client ember_shm ember_protocol EXPORT EmberTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(folder client protocol shm)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ember/${folder}
          FILES_MATCHING PATTERN "*.h")
endforeach()

set(ember_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Ember)
install(EXPORT EmberTargets NAMESPACE Ember:: DESTINATION ${ember_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/EmberConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/EmberConfig.cmake
  INSTALL_DESTINATION ${ember_cmake_dir})
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/EmberConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/EmberConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/EmberConfigVersion.cmake
        DESTINATION ${ember_cmake_dir})

# The configuration and the service: conf/ember.conf as
# <prefix>/etc/ember/ember.conf, the systemd unit (written at install time
# with the prefix given to `cmake --install`), its sysusers.d entry, and the
# README as the unit's documentation.
install(FILES ${PROJECT_SOURCE_DIR}/conf/ember.conf DESTINATION etc/ember)
install(FILES ${PROJECT_SOURCE_DIR}/conf/ember.sysusers
        DESTINATION lib/sysusers.d RENAME ember.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/ember)
install(CODE "
  set(EMBER_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_SOURCE_DIR}/conf/ember.service.in\"
                 \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/ember.service\"
                 @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/ember.service\")
")
