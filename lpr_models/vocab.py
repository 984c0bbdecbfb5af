"""The character set shared by every plate region the reader supports.

Index 0 is the end/pad class: a plate of N characters is encoded as N character
indices followed by pads, so one fixed-size output reads plates of any length.
"""

from __future__ import annotations

PROVINCES = "皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新"
SPECIAL = "警学港澳挂使领"
DIGITS = "0123456789"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PAD = 0
CHARSET = PROVINCES + SPECIAL + DIGITS + LATIN
CHINESE = PROVINCES + SPECIAL  # the characters only a Chinese plate shows
INDEX = {c: i + 1 for i, c in enumerate(CHARSET)}  # character -> class index (0 is PAD)


def has_chinese(text: str) -> bool:
    """Whether `text` holds a character only a Chinese plate shows (a province, 警, 使...)."""
    return any(c in CHINESE for c in text)


def vocab_size() -> int:
    """Number of output classes, the pad class included."""
    return len(CHARSET) + 1


def encode(text: str, max_len: int) -> list[int]:
    """Class indices for `text`, padded with PAD to `max_len`.

    Raises ValueError for a character outside the vocabulary or a text too long,
    so a bad label is caught when the data set is read, not mid-training.
    """
    if len(text) > max_len:
        raise ValueError(f"plate text {text!r} is longer than {max_len} characters")
    try:
        ids = [INDEX[c] for c in text]
    except KeyError as err:
        raise ValueError(f"character {err.args[0]!r} in {text!r} is not in the vocabulary") from None
    return ids + [PAD] * (max_len - len(ids))


def decode(ids: list[int]) -> str:
    """Text for a sequence of class indices: characters up to the first PAD."""
    out = []
    for i in ids:
        if i == PAD:
            break
        out.append(CHARSET[i - 1])
    return "".join(out)


def is_supported(text: str) -> bool:
    """Whether every character of `text` is in the vocabulary."""
    return all(c in INDEX for c in text)


# Plate families the reader tells apart (its region head); a Chinese character is only ever
# read on a plate read as "cn".
REGIONS = ("cn", "eu", "uk", "br", "us", "vn")
