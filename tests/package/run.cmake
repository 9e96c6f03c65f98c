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
