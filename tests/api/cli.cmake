# The `cubicle` client (cli/) as a user meets it: help, usage errors and
# exit statuses, and a fake cubicled's answers (unit); then against a real
# cubicled and sandbox (vm).
add_test(NAME cubicle_cli_usage COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/api/test_cli.sh usage
         $<TARGET_FILE:cubicle>)
set_tests_properties(cubicle_cli_usage PROPERTIES LABELS unit TIMEOUT 120)
add_test(NAME vm_cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/api/test_cli.sh vm
         $<TARGET_FILE:cubicle> $<TARGET_FILE:cubicled> ${CUBICLE_GUEST_DIR})
set_tests_properties(vm_cli PROPERTIES LABELS vm TIMEOUT 900)
