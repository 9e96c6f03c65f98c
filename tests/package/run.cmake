# tests/package/run.cmake: installs the build in BUILD_DIR into a fresh
# prefix under WORK_DIR, then configures and builds tests/package (README's
# example, README_EXAMPLE) with find_package(Ember) from that prefix only.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${PACKAGE_SOURCE} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DREADME_EXAMPLE=${README_EXAMPLE})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT EXISTS ${WORK_DIR}/build/readme_example)
  message(FATAL_ERROR "no readme_example was built")
endif()
message(STATUS "find_package(Ember) built README.md's example")

# The service unit is installed with this prefix in it, and systemd reads it
# without complaint (where systemd-analyze exists).
set(unit ${WORK_DIR}/prefix/lib/systemd/system/ember.service)
file(READ ${unit} unit_text)
if(NOT unit_text MATCHES "ExecStart=${WORK_DIR}/prefix/bin/ember-server ${WORK_DIR}/prefix/etc/ember/ember.conf")
  message(FATAL_ERROR "ember.service does not start the installed server:\n${unit_text}")
endif()
if(NOT EXISTS ${WORK_DIR}/prefix/etc/ember/ember.conf OR
   NOT EXISTS ${WORK_DIR}/prefix/lib/sysusers.d/ember.conf)
  message(FATAL_ERROR "ember.conf or the sysusers.d entry was not installed")
endif()
find_program(SYSTEMD_ANALYZE systemd-analyze)
if(SYSTEMD_ANALYZE)
  execute_process(COMMAND ${SYSTEMD_ANALYZE} verify --man=no ${unit}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "systemd-analyze verify ember.service failed (${rc}):\n${out}")
  endif()
  message(STATUS "systemd-analyze verify: ember.service is valid")
endif()

