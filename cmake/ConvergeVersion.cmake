# The suite's own revision, recorded in every run document's inventory.
find_package(Git QUIET)
set(CONVERGE_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS ${PROJECT_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE CONVERGE_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET)
  if(NOT CONVERGE_GIT_REVISION)
    set(CONVERGE_GIT_REVISION "unknown")
  endif()
  # Re-run configure when HEAD moves, so the recorded revision follows the checkout.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/.git/HEAD)
  if(EXISTS ${PROJECT_SOURCE_DIR}/.git/index)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/.git/index)
  endif()
endif()
