"""The server's TLS certificate and key, loaded once and checked before any port opens."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ServerCertificate"]


@dataclass(frozen=True, slots=True)
class ServerCertificate:
    """A PEM certificate (chain) and the unencrypted private key that belongs to it."""

    cert_file: Path
    key_file: Path
    cert_pem: bytes = field(repr=False)
    key_pem: bytes = field(repr=False)

    @classmethod
    def load(cls, cert_file: Path, key_file: Path) -> ServerCertificate:
        """Read and check both files.

        Raises ``OSError`` saying which file is unusable and why: unreadable, not PEM,
        an encrypted key, or a key that does not match the certificate.
        """
        pems = []
        for path in (cert_file, key_file):
            try:
                pems.append(path.read_bytes())
            except OSError as error:
                raise OSError(f"TLS: cannot read {path}: {error.strerror}") from None
        try:
            # The same check the TLS servers make, so they cannot fail later on these files.
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(
                cert_file, key_file, password=_refuse_password
            )
        except (ssl.SSLError, _EncryptedKey) as error:
            reason = error.reason if isinstance(error, ssl.SSLError) else str(error)
            if reason == "KEY_VALUES_MISMATCH":
                reason = "the key does not belong to the certificate"
            raise OSError(
                f"TLS: {cert_file} and {key_file} are not a PEM certificate and its private "
                f"key ({reason or error})"
            ) from None
        return cls(cert_file, key_file, pems[0], pems[1])


class _EncryptedKey(Exception):
    pass


def _refuse_password() -> str:
    # Called only for an encrypted key; without it OpenSSL would prompt on the terminal.
    raise _EncryptedKey("the key is encrypted; give an unencrypted key")
