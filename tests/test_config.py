import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.config import ConfigError, load_config, parse_config


def write(tmp_path, text):
    path = tmp_path / "lpr.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_full_config(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            """
[detector]
input_size = [384, 640]
score_threshold = 0.5
[events]
best_crops = 3
publish_after_s = 2
[publish]
endpoint = "tcp://127.0.0.1:6000"
jsonl = "events.jsonl"
[[camera]]
id = "gate"
source = "rtsp://127.0.0.1:8554/gate"
[[camera]]
id = "exit"
source = "exit.mp4"
stride = 2
""",
        )
    )
    assert [c.id for c in cfg.cameras] == ["gate", "exit"] and cfg.cameras[1].stride == 2
    assert cfg.detector.input_size == (384, 640) and cfg.events.publish_after_s == 2.0
    assert cfg.publish.jsonl == "events.jsonl"


@pytest.mark.parametrize(
    "text,message",
    [
        ("[detecter]\n", "unknown section 'detecter'"),
        ("[detector]\nscore = 1\n", r"\[detector\]: unknown key 'score'"),
        ("[detector]\nscore_threshold = 'high'\n", r"\[detector\].score_threshold: expected float"),
        ("[detector]\ninput_size = [600, 640]\n", "multiples of 32"),
        ("[detector]\ninput_size = [0, 640]\n", r"input_size: 0 is outside 32\.\.4096"),
        ("[[camera]]\nid = 'a'\nsource = 'x'\nstride = 0\n", r"stride: 0 is outside 1\.\.100000"),
        ("[[camera]]\nid = 'a'\nsource = 'x'\nqueue_size = -1\n", "queue_size: -1 is outside"),
        ("[[camera]]\nid = 'a'\nsource = 'x'\nread_timeout_s = -1.0\n", "busy loop"),
        ("[[camera]]\nid = 'a'\nsource = 'x'\nbackoff_max_s = 0\n", "busy loop"),
        ("[publish]\nhigh_water_mark = -1\n", "high_water_mark: -1 is outside"),
        ("[detector]\nthreads = -1\n", "threads: -1 is outside"),
        ("[detector]\nscore_threshold = nan\n", "not a finite number"),
        ("[events]\npublish_after_s = inf\n", "not a finite number"),
        ("[detector]\ninput_size = [64000, 64000]\n", "gigabytes"),
        ("[publish]\nvideo = 'out.xyz'\n", "unknown video type"),
        ("[publish]\nvideo = '/nonexistent-dir/out.mp4'\n", "does not exist or is not writable"),
        ("[publish]\nvideo = 'o.mp4'\n[[camera]]\nid='a'\nsource='x'\n[[camera]]\nid='b'\nsource='y'\n", "one camera"),
        ("[[camera]]\nid = 'a'\n", "missing key 'source'"),
        ("[[camera]]\nid = 'a'\nsource = ''\n", "empty source"),
        ("[[camera]]\nid = 'a'\nsource = 'x'\nhost = 'box/1'\n", "host 'box/1' must be letters"),
        ("[[camera]]\nid='a'\nsource='x'\n[[camera]]\nid='a'\nsource='y'\n", "duplicate camera id 'a'"),
        ("[publish]\nendpoint = 'localhost:5556'\n", "not a ZeroMQ endpoint"),
        ("[events]\nmin_frames = true\n", "expected int"),
        ("camera = 3\n", "array of tables"),
        ("[detector\n", "not valid TOML"),
    ],
)
def test_bad_configs_name_the_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(
        st.sampled_from(["detector", "ocr", "events", "publish", "tracking", "camera", "x"]), toml_values, max_size=4
    )
)
def test_any_document_is_accepted_or_refused_with_a_config_error(data):
    try:
        parse_config(data)
    except ConfigError:
        pass


def test_the_documented_defaults_are_the_real_defaults():
    import tomllib
    from dataclasses import fields

    from stream.config import SECTIONS, Config
    from tests.conftest import ROOT

    path = ROOT / "configs" / "default.toml"
    documented = load_config(path)
    defaults = Config()
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for section, cls in SECTIONS.items():
        assert getattr(documented, section) == getattr(defaults, section), section
        # every key is written out: a key missing from the file would equal its default silently
        assert sorted(raw.get(section, {})) == sorted(f.name for f in fields(cls)), section
    load_config(ROOT / "configs" / "cameras.example.toml")


def _section_and_field(key: str):
    from dataclasses import fields

    from stream.config import SECTIONS

    section, name = key.split(".")
    cls = ARRAY_TABLES[section][0] if section in ARRAY_TABLES else SECTIONS[section]
    return section, name, next(f for f in fields(cls) if f.name == name)


def _array_tables():
    from integrations.webhook import WebhookSpec
    from store.watchlist import WatchlistSpec
    from stream.config import CameraSection

    return {
        "camera": (CameraSection, {"id": "a", "source": "x"}),
        "watchlist": (WatchlistSpec, {"name": "w", "plates": ["AB123CD"]}),
        "webhook": (WebhookSpec, {"name": "w", "url": "http://127.0.0.1:9/"}),
    }


ARRAY_TABLES = _array_tables()


@pytest.mark.parametrize("key", sorted(__import__("stream.config", fromlist=["RANGES"]).RANGES))
@given(value=st.one_of(st.integers(-(10**9), 10**9), st.floats(allow_nan=True, allow_infinity=True)))
def test_every_ranged_key_accepts_exactly_its_range(key, value):
    from stream.config import RANGES

    low, high, _ = RANGES[key]
    section, name, spec = _section_and_field(key)
    kind = str(spec.type)
    if "int" in kind and "float" not in kind and not isinstance(value, int):
        return  # a float for an int key is a type error, tested above
    if "tuple" in kind:
        value = int(value) if value == value and abs(value) < 1e12 else 32
        value = [value, value]
    table = ARRAY_TABLES[section][1] | {name: value} if section in ARRAY_TABLES else {name: value}
    data = {section: [table]} if section in ARRAY_TABLES else {section: table}
    first = value[0] if isinstance(value, list) else value
    finite = first == first and abs(first) != float("inf")
    expected_ok = finite and low <= first <= high and (key != "detector.input_size" or first % 32 == 0)
    try:
        cfg = parse_config(data)
    except ConfigError:
        assert not expected_ok, f"{key} = {value!r} refused"
        return
    assert expected_ok, f"{key} = {value!r} accepted"
    arrays = {"camera": cfg.cameras, "watchlist": cfg.watchlist, "webhook": cfg.webhook}
    got = arrays[section][0] if section in arrays else getattr(cfg, section)
    assert getattr(got, name) == (tuple(value) if isinstance(value, list) else value)  # kept as given
