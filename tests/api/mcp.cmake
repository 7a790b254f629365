# vm_mcp: the MCP server through the real MCP client from npm, over stdio
# (cubicle mcp) and Streamable HTTP (/mcp), on a real sandbox.
add_test(NAME vm_mcp COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/api/test_mcp.mjs
         --cubicled $<TARGET_FILE:cubicled> --cli $<TARGET_FILE:cubicle>
         --guest-dir ${CUBICLE_GUEST_DIR} --web-dir ${CUBICLE_WEB_DIR})
set_tests_properties(vm_mcp PROPERTIES LABELS vm TIMEOUT 900)
# vm_python: the Python client (clients/python) and the example loops (examples/),
# replayed offline, against a real cubicled and sandbox.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME vm_python COMMAND ${Python3_EXECUTABLE} -m unittest -v test_client
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/clients/python/tests)
set_tests_properties(vm_python PROPERTIES LABELS vm TIMEOUT 900 ENVIRONMENT
  "CUBICLE_TEST_CUBICLED=$<TARGET_FILE:cubicled>;CUBICLE_TEST_GUEST_DIR=${CUBICLE_GUEST_DIR};PYTHONDONTWRITEBYTECODE=1")
# vm_e2b: E2B's control plane (/e2b) through the real `e2b` SDK from npm.
add_test(NAME vm_e2b COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/api/test_e2b.mjs
         --cubicled $<TARGET_FILE:cubicled> --guest-dir ${CUBICLE_GUEST_DIR}
         --web-dir ${CUBICLE_WEB_DIR})
set_tests_properties(vm_e2b PROPERTIES LABELS vm TIMEOUT 900)
