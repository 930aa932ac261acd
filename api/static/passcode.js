// The phone side of a QR pass: the text the gate camera reads, computed on the phone
// with no network after the page loaded, and drawn as a QR code. It mirrors
// recognition/passes/issue.py render() byte for byte (tests/e2e/test_passcode_js.py):
//
//   rotating pass:  base45(signed + step mod 2**16 (2 bytes) + TOTP code (4 bytes))
//   any other pass: base45(signed)
//
// TOTP as RFC 6238: HMAC-SHA-256, 30 s steps from the Unix epoch, 8 digits. The HMAC
// is js-sha256 and the QR encoder qrcode-generator (vendor/README.md says why not
// WebCrypto). No build step: a classic <script> after vendor/sha256.js and
// vendor/qrcode.js defines the global GatePass; under Node, require() returns it.
"use strict";
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory(
      () => require("./vendor/sha256.js"),
      () => require("./vendor/qrcode.js"),
    );
  } else {
    // Looked up when first used, so the order of the <script> tags does not matter.
    root.GatePass = factory(
      () => root.sha256,
      () => root.qrcode,
    );
  }
})(typeof self !== "undefined" ? self : this, function (sha256Lib, qrcodeLib) {
  const STEP_MS = 30 * 1000;
  const DIGITS_MODULUS = 1e8; // 8 digits
  const STEP_WRAP = 0x10000; // the token carries the step modulo 2**16
  const QUIET_MODULES = 4; // the quiet zone ISO/IEC 18004 asks for
  const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const SVG_NS = "http://www.w3.org/2000/svg";

  function need(lookup, name) {
    const lib = lookup();
    if (!lib) throw new Error(`GatePass: ${name} is not loaded (vendor/${name}.js)`);
    return lib;
  }

  /** Base45 (RFC 9285) of bytes: each 2 bytes become 3 characters, least significant first. */
  function base45Encode(bytes) {
    let out = "";
    const full = bytes.length - (bytes.length % 2);
    for (let i = 0; i < full; i += 2) {
      let n = bytes[i] * 256 + bytes[i + 1];
      const c = n % 45;
      n = (n - c) / 45;
      out += ALPHABET[c] + ALPHABET[n % 45] + ALPHABET[(n - (n % 45)) / 45];
    }
    if (full < bytes.length) {
      const n = bytes[full];
      out += ALPHABET[n % 45] + ALPHABET[(n - (n % 45)) / 45];
    }
    return out;
  }

  /** Bytes of base64 text (standard or URL-safe alphabet, padding optional). */
  function base64ToBytes(text) {
    let b64 = String(text).trim().replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    const binary = atob(b64); // throws on anything that is not base64
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  /** The RFC 6238 time step T of a moment in Unix milliseconds (T0 = 0, X = 30 s). */
  function stepAt(unixMillis) {
    return Math.floor(unixMillis / STEP_MS);
  }

  /** Whole seconds until the next step begins, rounded up: 30 at a boundary, 1 at the end. */
  function secondsLeft(unixMillis) {
    return Math.ceil((STEP_MS - (((unixMillis % STEP_MS) + STEP_MS) % STEP_MS)) / 1000);
  }

  /** The TOTP value of a step: HOTP (RFC 4226) of the 8-byte big-endian step, 8 digits. */
  function totpCode(secretBytes, step) {
    const counter = new Uint8Array(8);
    // Bitwise operators are 32-bit in JS: split the step into two 32-bit halves.
    let high = Math.floor(step / 0x100000000);
    let low = step - high * 0x100000000;
    for (let i = 7; i >= 4; i -= 1) {
      counter[i] = low & 0xff;
      low = Math.floor(low / 256);
      counter[i - 4] = high & 0xff;
      high = Math.floor(high / 256);
    }
    const digest = need(sha256Lib, "sha256").hmac.array(secretBytes, counter);
    const offset = digest[digest.length - 1] & 0x0f;
    const binary =
      (digest[offset] & 0x7f) * 0x1000000 +
      digest[offset + 1] * 0x10000 +
      digest[offset + 2] * 0x100 +
      digest[offset + 3];
    return binary % DIGITS_MODULUS;
  }

  /** The QR text of a pass at a moment; secretBytes null (or absent) for a pass that does not rotate. */
  function passText(signedBytes, secretBytesOrNull, unixMillis) {
    if (secretBytesOrNull == null) return base45Encode(signedBytes);
    const step = stepAt(unixMillis);
    const code = totpCode(secretBytesOrNull, step);
    const low = step % STEP_WRAP;
    const token = new Uint8Array(signedBytes.length + 6);
    token.set(signedBytes);
    const tail = signedBytes.length;
    token[tail] = low >> 8;
    token[tail + 1] = low & 0xff;
    token[tail + 2] = (code >>> 24) & 0xff;
    token[tail + 3] = (code >>> 16) & 0xff;
    token[tail + 4] = (code >>> 8) & 0xff;
    token[tail + 5] = code & 0xff;
    return base45Encode(token);
  }

  /**
   * Draw text as a QR code (alphanumeric mode, level M, the smallest version that holds
   * it) into container, replacing what was there; returns the SVG element.
   *
   * Base45 is exactly the alphanumeric alphabet, so the 182 characters of the longest
   * token fit version 8 (49 modules) where byte mode would need version 10. One SVG path
   * in module units with crispEdges: no anti-aliased seams between modules at any
   * screen scale. White background and the 4-module quiet zone are part of the image,
   * so a dark page theme cannot eat them. It fills the container's width, up to 92% of
   * the shorter side of the screen. options.mode "Byte" draws any text (a link).
   */
  function drawQr(container, text, options) {
    const qr = need(qrcodeLib, "qrcode")(0, "M");
    qr.addData(text, (options && options.mode) || "Alphanumeric");
    qr.make();
    const count = qr.getModuleCount();
    const size = count + 2 * QUIET_MODULES;
    let d = "";
    for (let row = 0; row < count; row += 1) {
      for (let col = 0; col < count; col += 1) {
        if (qr.isDark(row, col)) d += `M${col + QUIET_MODULES} ${row + QUIET_MODULES}h1v1h-1z`;
      }
    }
    const doc = container.ownerDocument;
    const svg = doc.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", (options && options.label) || "QR pass");
    svg.dataset.modules = String(count);
    svg.dataset.version = String((count - 17) / 4);
    svg.style.cssText =
      "display:block;width:100%;max-width:92vmin;height:auto;aspect-ratio:1/1;" +
      "margin:0 auto;background:#fff";
    const background = doc.createElementNS(SVG_NS, "rect");
    background.setAttribute("width", String(size));
    background.setAttribute("height", String(size));
    background.setAttribute("fill", "#fff");
    const modules = doc.createElementNS(SVG_NS, "path");
    modules.setAttribute("d", d);
    modules.setAttribute("fill", "#000");
    svg.append(background, modules);
    container.replaceChildren(svg);
    return svg;
  }

  /**
   * Show a pass and keep it current: draw now, then again at every step boundary.
   *
   * Each wake-up recomputes from Date.now() and sets the next timeout to the coming
   * boundary, so timers that fired late (a phone asleep, a throttled background tab)
   * never leave an old code up: the first tick after waking shows the right one. The
   * page turning visible again redraws at once for the same reason. onTick, if given,
   * is called after every tick with {text, step, secondsLeft}. Returns {stop, refresh}.
   */
  function startRotating({ container, signedB64, secretB64, onTick }) {
    const signed = base64ToBytes(signedB64);
    const secret = secretB64 ? base64ToBytes(secretB64) : null;
    const doc = container.ownerDocument;
    let timer = null;
    let shown = null;
    let stopped = false;

    function tick() {
      if (stopped) return;
      clearTimeout(timer);
      const now = Date.now();
      const text = passText(signed, secret, now);
      if (text !== shown) {
        drawQr(container, text);
        shown = text;
      }
      if (onTick) onTick({ text, step: stepAt(now), secondsLeft: secondsLeft(now) });
      if (secret !== null) {
        // A timeout that fires a little early finds the same step and sleeps the rest.
        timer = setTimeout(tick, STEP_MS - (((now % STEP_MS) + STEP_MS) % STEP_MS));
      }
    }
    function onVisible() {
      if (doc.visibilityState === "visible") tick();
    }

    doc.addEventListener("visibilitychange", onVisible);
    tick();
    return {
      refresh: tick,
      stop() {
        stopped = true;
        clearTimeout(timer);
        doc.removeEventListener("visibilitychange", onVisible);
      },
    };
  }

  return {
    STEP_SECONDS: STEP_MS / 1000,
    base45Encode,
    base64ToBytes,
    stepAt,
    secondsLeft,
    totpCode,
    passText,
    drawQr,
    startRotating,
  };
});
