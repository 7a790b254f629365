# api/openapi.yaml against the routes cubicled serves (api_routes_new()), both ways.
find_package(PkgConfig REQUIRED)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
add_executable(test_openapi api/test_openapi.c)
target_link_libraries(test_openapi PRIVATE cubicle_api PkgConfig::YAML)
add_test(NAME test_openapi COMMAND test_openapi ${CMAKE_SOURCE_DIR}/api/openapi.yaml)
set_tests_properties(test_openapi PROPERTIES LABELS unit TIMEOUT 60)
