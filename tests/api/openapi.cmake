# api/openapi.yaml against the routes cubicled serves (api_routes_new()), both ways.
find_package(PkgConfig REQUIRED)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
add_executable(test_openapi api/test_openapi.c)
target_link_libraries(test_openapi PRIVATE cubicle_api PkgConfig::YAML)
add_test(NAME test_openapi COMMAND test_openapi ${CMAKE_SOURCE_DIR}/api/openapi.yaml)
set_tests_properties(test_openapi PROPERTIES LABELS unit TIMEOUT 60)
# The models' routes' decisions that need no sandbox.
add_executable(test_model api/test_model.c)
target_link_libraries(test_model PRIVATE cubicle_api)
add_test(NAME test_model COMMAND test_model)
set_tests_properties(test_model PROPERTIES LABELS unit TIMEOUT 60)
