/* The login page: the server answers a wrong token with this same page and status 401; the
   navigation's status tells the two apart, so the "not right" line shows only after a failed try. */
"use strict";

(() => {
  const nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  if (nav && nav.responseStatus === 401) document.getElementById("login-error").hidden = false;
  // keep ?next= (the page the person was sent from) on the form's target: the server returns there
  document.querySelector("form").action = "/login" + location.search;
})();
