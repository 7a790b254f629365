# vm_mcp: the MCP server through the real MCP client from npm, over stdio
# (cubicle mcp) and Streamable HTTP (/mcp), on a real sandbox.
add_test(NAME vm_mcp COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/api/test_mcp.mjs
         --cubicled $<TARGET_FILE:cubicled> --cli $<TARGET_FILE:cubicle>
         --guest-dir ${CUBICLE_GUEST_DIR} --web-dir ${CUBICLE_WEB_DIR})
set_tests_properties(vm_mcp PROPERTIES LABELS vm TIMEOUT 900)
