// Sets the saved or system theme before the first paint, so a dark page never flashes white.
(function () {
  var saved = null;
  try { saved = localStorage.getItem('netsnoop-theme'); } catch (e) { /* storage may be off */ }
  var dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = saved === 'dark' || saved === 'light' ? saved : (dark ? 'dark' : 'light');
})();
