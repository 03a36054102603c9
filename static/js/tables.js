/* A table wider than the phone scrolls sideways in its box (.table-wrap): say so above it, and let the
   keyboard scroll it too (the box takes the focus). Checked again when the window changes size. */
(function () {
  "use strict";
  var hint = document.getElementById("table-scroll-hint");

  function label(wrap) {
    for (var node = wrap.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-4]$/.test(node.tagName)) return node.textContent.trim();
    }
    var caption = wrap.querySelector("caption");
    return caption ? caption.textContent.trim() : "";
  }

  function check() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      var shown = wrap.previousElementSibling && wrap.previousElementSibling.classList.contains("scroll-hint");
      wrap.classList.toggle("scrolls", scrolls);
      if (scrolls) {
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label") && label(wrap)) wrap.setAttribute("aria-label", label(wrap));
        if (!shown && hint) wrap.parentNode.insertBefore(hint.content.firstElementChild.cloneNode(true), wrap);
      } else {
        wrap.removeAttribute("tabindex");
        if (shown) wrap.parentNode.removeChild(wrap.previousElementSibling);
      }
    });
  }

  check();
  window.addEventListener("resize", check);
})();
