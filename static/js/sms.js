// The live count of characters, SMS segments and cost under the message box; the rules repeat
// outreach/sms/segments.py (GSM-7 160/153, otherwise UCS-2 70/67, text normalized to NFC first).
(function () {
  "use strict";
  var box = document.querySelector("[data-sms-template]");
  var out = document.getElementById("sms-count");
  if (!box || !out) return;
  var plainBox = document.querySelector("[data-sms-plain]");
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXT = "^{}\\[~]|€\f";
  var PLAIN = { "“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "\u00a0": " " };

  function unaccent(text) {
    return text.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .normalize("NFC").replace(/[“”‘’–—…\u00a0]/g, function (c) { return PLAIN[c]; });
  }
  function count(text) {
    text = text.normalize("NFC");
    var gsm = true, septets = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (GSM.indexOf(c) >= 0) septets += 1;
      else if (EXT.indexOf(c) >= 0) septets += 2;
      else { gsm = false; break; }
    }
    var length = gsm ? septets : text.length;  // JavaScript strings are UTF-16 code units, as UCS-2 counts
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    return { encoding: gsm ? "GSM-7" : "UCS-2", chars: length, segments: length <= single ? 1 : Math.ceil(length / multi) };
  }
  function fill(format, values) {
    return format.replace(/\{(\w+)\}/g, function (m, key) { return key in values ? values[key] : m; });
  }
  var guide = document.getElementById("guide_id");
  var links = JSON.parse(box.dataset.links || "{}");
  function update() {
    var link = (guide && links[guide.value]) || box.dataset.link;  // the chosen guide's link, else the longest
    var text = box.value.replace(/\s+/g, " ").trim()
      .split("{name}").join(box.dataset.name).split("{link}").join(link);
    if (plainBox && plainBox.checked) text = unaccent(text);
    var now = count(text), plain = count(unaccent(text));
    var price = parseFloat(box.dataset.price) || 0;
    var line = fill(out.dataset.format, {
      chars: now.chars, segments: now.segments, encoding: now.encoding === "GSM-7" ? out.dataset.without : out.dataset.with,
      cost: Math.round(now.segments * price).toLocaleString(document.documentElement.lang || "vi"), currency: box.dataset.currency
    });
    if (plain.segments < now.segments) line += " " + fill(out.dataset.saving, { plain: plain.segments, saved: now.segments - plain.segments });
    out.textContent = line;
    out.hidden = false;
  }
  box.addEventListener("input", update);
  if (plainBox) plainBox.addEventListener("change", update);
  if (guide) guide.addEventListener("change", update);
  update();
})();
