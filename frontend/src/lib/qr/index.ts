/**
 * A QR code as one SVG path, drawn from the `qrcode` package's module matrix. Only the account page's
 * authenticator-app setup needs it, so it is loaded with a dynamic `import()` when that step opens.
 */
import { create } from 'qrcode';

export interface QrDrawing {
	/** Modules along one side, without the quiet zone. */
	size: number;
	/** An SVG path of the dark modules, one unit per module. */
	path: string;
}

/** The dark modules as a path: each row's runs of dark modules become one rectangle. */
export function modulesToPath(size: number, dark: (row: number, column: number) => boolean): string {
	const parts: string[] = [];
	for (let row = 0; row < size; row++) {
		let column = 0;
		while (column < size) {
			if (!dark(row, column)) {
				column++;
				continue;
			}
			const start = column;
			while (column < size && dark(row, column)) column++;
			parts.push(`M${start} ${row}h${column - start}v1h-${column - start}z`);
		}
	}
	return parts.join('');
}

/** Error correction M (15 %): what authenticator apps scan easily at the size of an `otpauth://` URI. */
export function drawQr(text: string): QrDrawing {
	const { modules } = create(text, { errorCorrectionLevel: 'M' });
	return { size: modules.size, path: modulesToPath(modules.size, (row, column) => !!modules.get(row, column)) };
}
