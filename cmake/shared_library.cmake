# libpocket.so (the C API, only pocket_* exported, SONAME libpocket.so.<ABI>), and what `cmake --install`
# puts under the prefix: the header, both libraries, the CLI, device profiles, a CMake package
# (find_package(Pocket) -> Pocket::pocket, Pocket::pocket_static) and pocket.pc for pkg-config.
set(POCKET_ABI_VERSION 1)  # = POCKET_ABI_VERSION in include/pocket/pocket.h (tests/api checks it)

# Built in POCKET_STATIC builds too (aarch64: the library a phone app loads), linked to PCRE2's .so.
add_library(pocket_shared SHARED $<TARGET_OBJECTS:pocket_objects>)
set_target_properties(pocket_shared PROPERTIES OUTPUT_NAME pocket EXPORT_NAME pocket LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/api/libpocket.map)
if(NOT ANDROID)
  # Android's packager and loader take lib<name>.so only: there the file is libpocket.so, without a version.
  set_target_properties(pocket_shared PROPERTIES VERSION ${POCKET_ABI_VERSION}.${PROJECT_VERSION_MINOR}.${PROJECT_VERSION_PATCH}
    SOVERSION ${POCKET_ABI_VERSION})
endif()
target_link_libraries(pocket_shared PRIVATE Threads::Threads PkgConfig::PCRE2 PkgConfig::UTF8PROC)
target_link_options(pocket_shared PRIVATE "-Wl,--version-script=${CMAKE_SOURCE_DIR}/src/api/libpocket.map" -Wl,--no-undefined)
target_include_directories(pocket_shared INTERFACE $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
install(TARGETS pocket_shared EXPORT PocketTargets LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT PocketTargets NAMESPACE Pocket:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pocket)

install(FILES include/pocket/pocket.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pocket)
# The static archive holds the same objects (C API included); its users also link libstdc++, PCRE2, utf8proc, threads.
install(FILES $<TARGET_FILE:pocket> DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY devices/ DESTINATION ${CMAKE_INSTALL_DATADIR}/pocket/devices FILES_MATCHING PATTERN "*.json")

include(CMakePackageConfigHelpers)
configure_package_config_file(cmake/PocketConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/PocketConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pocket PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/PocketConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/PocketConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/PocketConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Pocket)
file(RELATIVE_PATH POCKET_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(cmake/pocket.pc.in ${CMAKE_CURRENT_BINARY_DIR}/pocket.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pocket.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
