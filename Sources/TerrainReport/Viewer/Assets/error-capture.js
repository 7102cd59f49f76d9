"use strict";
window.terrainErrors = [];
window.addEventListener("error", function (e) { window.terrainErrors.push(String(e.message || e)); });
window.addEventListener("unhandledrejection", function (e) { window.terrainErrors.push("unhandled rejection: " + String(e.reason)); });
(function () {
  const original = console.error.bind(console);
  console.error = function () { window.terrainErrors.push(Array.from(arguments).map(String).join(" ")); original.apply(null, arguments); };
})();
