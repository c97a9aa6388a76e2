// Types of chromium.mjs (tools/ has no dependencies: the browser type comes from the caller's playwright-core).
export declare const CHROMIUM: string;
export declare function haveChromium(): boolean;
export declare function launchChromium<B>(chromium: { launch(options: object): Promise<B> }): Promise<B>;
