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

	// Forms that htmx swaps in place keep keyboard focus useful: after "Add parameter",
	// "Add endpoint" or "Add credential" the new row's first field, after a failed save the
	// first wrong field.
	var lastOp = "";
	document.addEventListener("htmx:configRequest", function (event) {
		var params = event.detail.parameters || {};
		lastOp = (typeof params.get === "function" ? params.get("op") : params.op) || "";
	});
	document.addEventListener("htmx:afterSettle", function () {
		// An outerHTML swap replaces the element the event names, so look in the document.
		var root = document;
		var target = null;
		if (lastOp === "add-parameter") {
			target = last(root.querySelectorAll('input[name^="parameters["][name$="].name"]'));
		} else if (lastOp === "add-endpoint") {
			target = last(root.querySelectorAll('input[name^="endpoints["][name$="].name"]'));
		} else if (lastOp.indexOf("add-credential:") === 0) {
			var env = lastOp.slice("add-credential:".length);
			target = last(Array.prototype.filter.call(root.querySelectorAll('input[name$="].name"]'), function (input) {
				return input.name.indexOf("credentials." + env + "[") === 0;
			}));
		} else if (lastOp) {
			target = root.querySelector('[aria-invalid="true"]');
		}
		lastOp = "";
		if (target) target.focus();
	});

	function last(nodes) { return nodes.length ? nodes[nodes.length - 1] : null; }

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
