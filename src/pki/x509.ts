/** @peculiar/x509 wired to Node's WebCrypto; every certificate in kbuild goes through this module. */
import 'reflect-metadata'; // @peculiar/x509's ASN.1 schemas need it loaded first.
import * as x509 from '@peculiar/x509';

// Node ≥ 20 exposes WebCrypto as globalThis.crypto; say so explicitly rather than rely on detection.
x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
