#----------------------------------------------------------------
# Generated CMake target import file for configuration "Release".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "SAttn::sattn-capi" for configuration "Release"
set_property(TARGET SAttn::sattn-capi APPEND PROPERTY IMPORTED_CONFIGURATIONS RELEASE)
set_target_properties(SAttn::sattn-capi PROPERTIES
  IMPORTED_LINK_DEPENDENT_LIBRARIES_RELEASE "MLIR"
  IMPORTED_LOCATION_RELEASE "${_IMPORT_PREFIX}/lib/libsattn-capi.so"
  IMPORTED_SONAME_RELEASE "libsattn-capi.so"
  )

list(APPEND _cmake_import_check_targets SAttn::sattn-capi )
list(APPEND _cmake_import_check_files_for_SAttn::sattn-capi "${_IMPORT_PREFIX}/lib/libsattn-capi.so" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
