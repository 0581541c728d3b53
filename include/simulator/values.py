"""Realistic value pools (countries, networks, message bodies) and the cheap per-record PRNG.

Why: records are regenerated on every request from (seed, account, product, day, index), so the
generator must be deterministic and cheap (a 64-bit splitmix step per value, no random.Random objects).
Message bodies deliberately contain commas, quotes, newlines and non-ASCII text to exercise CSV parsing.
"""

from __future__ import annotations

import hashlib
import time

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
_C1_INV = pow(_C1, -1, 1 << 64)
_C2_INV = pow(_C2, -1, 1 << 64)


def mix64(z: int) -> int:
    """splitmix64 finalizer: a bijection on 64-bit integers with good avalanche."""
    z = ((z ^ (z >> 30)) * _C1) & M64
    z = ((z ^ (z >> 27)) * _C2) & M64
    return z ^ (z >> 31)


def _unshift(y: int, s: int) -> int:
    x = y
    for _ in range(64 // s + 1):
        x = y ^ (x >> s)
    return x


def unmix64(z: int) -> int:
    """Inverse of mix64 (used to decode record ids back to their (product, day, index))."""
    z = _unshift(z, 31)
    z = (z * _C2_INV) & M64
    z = _unshift(z, 27)
    z = (z * _C1_INV) & M64
    return _unshift(z, 30)


def key64(*parts: object) -> int:
    raw = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


class Rng:
    """Tiny deterministic stream of pseudo-random values, seeded through splitmix64."""

    __slots__ = ("s",)

    def __init__(self, seed: int) -> None:
        self.s = mix64(seed & M64)

    def next(self) -> int:
        """47 high bits of a 64-bit LCG step: plenty for picking values, one multiply per value."""
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & M64
        return self.s >> 17

    def below(self, n: int) -> int:
        return self.next() % n

    def unit(self) -> float:
        return self.next() / 140737488355328.0

    def pick(self, seq):  # type: ignore[no-untyped-def]
        return seq[self.next() % len(seq)]

    def digits(self, n: int) -> str:
        return str(self.next() % (10**n)).zfill(n)

    def hex(self, n: int) -> str:
        return (f"{self.next():012x}{self.next():012x}{self.next():012x}{self.next():012x}")[:n]

    def uuid(self) -> str:
        h = f"{self.next():011x}{self.next():011x}{self.next():010x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def fmt_ts(epoch: float, style: str) -> str:
    """UTC timestamp as Vonage writes it: `yyyy-mm-ddThh:mm:ss` + `+0000` or `+00:00`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(epoch))) + style


def fmt_ts_millis_z(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(epoch))) + f".{int(epoch * 1000) % 1000:03d}Z"


def money(x: float, places: int = 8) -> str:
    return f"{x:.{places}f}"


# (ISO code, name, dialling code, national digits, networks[(MCCMNC, name)], sms EUR, voice EUR/min)
COUNTRIES: tuple[tuple[str, str, str, int, tuple[tuple[str, str], ...], float, float], ...] = (
    ("GB", "United Kingdom", "44", 10, (("23410", "Telefonica UK Limited"), ("23415", "Vodafone Limited"),
                                        ("23420", "Hutchison 3G Ltd"), ("23430", "EE Limited")), 0.0333, 0.0120),  # noqa: E501
    ("US", "United States", "1", 10, (("310260", "T-Mobile USA"), ("310410", "AT&T Mobility"),
                                      ("311480", "Verizon Wireless"), ("US-FIXED", "United States Landline")),
     0.0079, 0.0090),
    ("DE", "Germany", "49", 11, (("26201", "Telekom Deutschland GmbH"), ("26202", "Vodafone GmbH"),
                                 ("26203", "Telefónica Germany GmbH & Co. oHG")), 0.0780, 0.0310),
    ("FR", "France", "33", 9, (("20801", "Orange France"), ("20810", "SFR"), ("20820", "Bouygues Telecom")),
     0.0650, 0.0250),
    ("ES", "Spain", "34", 9, (("21401", "Vodafone España"), ("21403", "Orange Espagne"),
                              ("21407", "Telefónica Móviles España")), 0.0720, 0.0270),
    ("BR", "Brazil", "55", 11, (("72405", "Claro Brasil"), ("72406", "Vivo")), 0.0250, 0.0410),
    ("IN", "India", "91", 10, (("40410", "Bharti Airtel"), ("405857", "Reliance Jio Infocomm")), 0.0052, 0.0160),  # noqa: E501
    ("JP", "Japan", "81", 10, (("44010", "NTT DOCOMO"), ("44020", "SoftBank Corp.")), 0.0740, 0.0850),
    ("SG", "Singapore", "65", 8, (("52501", "Singtel"), ("52503", "M1 Limited")), 0.0410, 0.0150),
    ("AU", "Australia", "61", 9, (("50501", "Telstra"), ("50502", "Optus")), 0.0450, 0.0330),
)  # fmt: skip

MESSAGE_BODIES: tuple[str, ...] = (
    "Your verification code is 482913. It expires in 10 minutes.",
    "Hi Anna, your order #5521 has shipped, track it at https://example.com/t?id=5521&lang=en",
    'He said "see you at 5", then left, didn\'t he?',
    "Line one\nLine two, with a comma\nLine three",
    "Grüße aus München – Ihr Termin ist bestätigt ✔",  # noqa: RUF001 - non-ASCII on purpose
    "Olá! Sua consulta está marcada para amanhã às 9h.",
    "你好，您的验证码是 7731。",  # noqa: RUF001 - non-ASCII on purpose
    'Reminder: pay €12,50 by Friday; reply "STOP" to opt out\r\nThanks',
    "🎉 Happy birthday! Enjoy 20% off, today only.",
    "",
)
SENDER_IDS: tuple[str, ...] = ("Acme Inc.", "VONAGE", "MyShop", "Bank-OTP", "447700900001", "12015550123")
