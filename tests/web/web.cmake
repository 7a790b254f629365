# vm_web: the web console in Debian's Chromium (headless, playwright-core)
# against a real cubicled and a real sandbox. `make web` lays out
# ${CUBICLE_WEB_DIR} (the console, noVNC, and modules.path naming the npm
# packages); the page's screenshots go to web-shots/ in the build tree.
find_program(NODE_EXECUTABLE node REQUIRED)
set(CUBICLE_WEB_DIR "${CUBICLE_GUEST_DIR}/../web" CACHE PATH
    "The web console as `make web` lays it out")
add_test(NAME vm_web COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/web/test_web.mjs
         --cubicled $<TARGET_FILE:cubicled> --guest-dir ${CUBICLE_GUEST_DIR}
         --web-dir ${CUBICLE_WEB_DIR} --out ${CMAKE_CURRENT_BINARY_DIR}/web-shots)
set_tests_properties(vm_web PROPERTIES LABELS vm TIMEOUT 900)
