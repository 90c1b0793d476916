/**
 * jsdom has `<dialog>` but not its methods: a minimal stand-in (open attribute, `close` event) so components
 * that use the native dialog can be tested. Focus trapping and inertness are the browser's, tested in Chromium.
 */
const proto = globalThis.HTMLDialogElement?.prototype;
if (proto && typeof proto.showModal !== 'function') {
	proto.show = function (this: HTMLDialogElement) {
		this.setAttribute('open', '');
	};
	proto.showModal = proto.show;
	proto.close = function (this: HTMLDialogElement, returnValue?: string) {
		if (!this.hasAttribute('open')) return;
		this.removeAttribute('open');
		if (returnValue !== undefined) this.returnValue = returnValue;
		this.dispatchEvent(new Event('close'));
	};
}
