// Cubicle's defaults for the desktop's Firefox (Debian reads every file in
// /etc/firefox-esr as default preferences).
// The session store written every second, not every 15: the Gemini route
// reads the address the browser shows from it (api/browser.c).
pref("browser.sessionstore.interval", 1000);
