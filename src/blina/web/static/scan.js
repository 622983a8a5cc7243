/* Scan a bag's label with the device's camera into the hang form's code field.

   Progressive enhancement: the "Scan the label" button appears only where the browser
   can open a camera (a secure origin with getUserMedia) and jsQR has loaded; typing the
   code always works. Every word shown comes from the form's data-scan-* attributes,
   which the page rendered in the user's language. The decoded text only fills the
   field: the server's hang checks decide, as for a typed code.

   Plain ES2017, no inline script, no eval (the pages' CSP is script-src 'self'); the
   camera is allowed for this origin only (Permissions-Policy camera=(self)). */
(function () {
  "use strict";

  const FRAME_MS = 125; // about 8 frames a second: quick to read, light on a phone's battery
  const MAX_WIDTH = 640; // frames are scaled down to this before decoding

  function setUp(form) {
    const code = form.querySelector("#hang-code");
    const rate = form.querySelector("#hang-rate");
    const words = form.dataset;
    const scan = button(words.scanLabel, "scan");
    const cancel = button(words.scanCancel, "scan-cancel");
    const box = document.createElement("div");
    const video = document.createElement("video");
    const status = document.createElement("p");
    const canvas = document.createElement("canvas");
    let stream = null;
    let timer = null;

    box.className = "scan";
    box.hidden = true;
    video.muted = true;
    video.playsInline = true;
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-label", words.scanVideo);
    video.width = 240; // CSS pixels; the height follows the camera's aspect ratio
    video.dataset.scan = "video";
    status.setAttribute("role", "status");
    status.dataset.scan = "status";
    box.appendChild(video);
    box.appendChild(cancel);
    code.insertAdjacentElement("afterend", scan);
    scan.insertAdjacentElement("afterend", box);
    box.insertAdjacentElement("afterend", status);

    function say(text) {
      status.textContent = text || "";
    }

    function stop() {
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      if (stream !== null) {
        stream.getTracks().forEach(function (track) { track.stop(); });
        stream = null;
      }
      video.srcObject = null;
      box.hidden = true;
      scan.hidden = false;
    }

    function read() {
      timer = null;
      if (stream === null) {
        return;
      }
      if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0) {
        const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
        const width = Math.round(video.videoWidth * scale);
        const height = Math.round(video.videoHeight * scale);
        canvas.width = width;
        canvas.height = height;
        const context = canvas.getContext("2d", { willReadFrequently: true });
        context.drawImage(video, 0, 0, width, height);
        const found = jsQR(context.getImageData(0, 0, width, height).data, width, height, {
          inversionAttempts: "dontInvert",
        });
        const text = found ? found.data.trim().toUpperCase() : "";
        if (text) {
          code.value = text;
          code.dispatchEvent(new Event("input", { bubbles: true }));
          code.dispatchEvent(new Event("change", { bubbles: true }));
          stop();
          say(words.scanRead);
          rate.focus();
          return;
        }
      }
      timer = setTimeout(read, FRAME_MS);
    }

    async function start() {
      if (stream !== null || scan.disabled) {
        return;
      }
      say("");
      scan.disabled = true;
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: false,
          video: { facingMode: "environment" },
        });
      } catch (error) {
        stream = null;
        const refused = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
        say(refused ? words.scanRefused : words.scanAbsent);
        return;
      } finally {
        scan.disabled = false;
      }
      video.srcObject = stream;
      scan.hidden = true;
      box.hidden = false;
      say(words.scanLooking);
      try {
        await video.play();
      } catch (error) {
        stop();
        say(words.scanAbsent);
        return;
      }
      cancel.focus();
      read();
    }

    scan.addEventListener("click", start);
    cancel.addEventListener("click", function () {
      stop();
      say("");
      scan.focus();
    });
    form.addEventListener("submit", stop);
    window.addEventListener("pagehide", stop);
  }

  function button(text, action) {
    const made = document.createElement("button");
    made.type = "button";
    made.textContent = text;
    made.dataset.action = action;
    return made;
  }

  const camera = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!camera || typeof jsQR !== "function") {
    return;
  }
  document.querySelectorAll('form[data-form="hang"]').forEach(setUp);
})();
