// Junction console behaviour that needs JavaScript. Every page also works without it.
(function () {
	"use strict";

	// Copy buttons: <button data-copy-target="ID"> copies the text of element ID and says so.
	document.addEventListener("click", function (event) {
		var button = event.target.closest("[data-copy-target]");
		if (!button) return;
		var source = document.getElementById(button.getAttribute("data-copy-target"));
		if (!source) return;
		var text = (source.value !== undefined ? source.value : source.textContent).trim();
		var label = button.textContent;
		var done = function (ok) {
			button.textContent = ok ? "Copied" : "Press Ctrl+C to copy";
			button.setAttribute("aria-live", "polite");
			setTimeout(function () { button.textContent = label; }, 2000);
		};
		if (navigator.clipboard && window.isSecureContext) {
			navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(copyWithSelection(source)); });
		} else {
			done(copyWithSelection(source));
		}
	});

	// copyWithSelection is the fallback for plain http origins, where the Clipboard API is absent.
	function copyWithSelection(source) {
		var range = document.createRange();
		range.selectNodeContents(source);
		var selection = window.getSelection();
		selection.removeAllRanges();
		selection.addRange(range);
		try { return document.execCommand("copy"); } catch (e) { return false; }
	}
})();
