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


CAMERA = "[[camera]]\nid = 'a'\nsource = 'x'\n"
EXACT_MESSAGES = [
    ("[detecter]\n", "{p}: unknown section 'detecter' (known: camera, watchlist, webhook, detector, ocr, tracking, "
     "events, publish, store, mqtt, serve, inference)"),
    ("[serve]\nport = 1\n", "{p}: [serve]: unknown key 'port' (known: bind, enabled, token)"),
    ("[[camera]]\nid = 'a'\n", "{p}: [[camera]] #1: missing key 'source'"),
    (CAMERA + "[[camera]]\nid = 'b'\nsource = 3\n", "{p}: [[camera]] #2.source: expected str, got int 3"),
    ("[[watchlist]]\nname = 'w'\nplates = ['A', 1]\n", "{p}: [[watchlist]] #1.plates[1]: expected str, got int 1"),
    ("[[watchlist]]\nname = 'w'\nplates = 'A'\n", "{p}: [[watchlist]] #1.plates: expected a list, got 'A'"),
    ("[[webhook]]\nname = 'h'\nurl = 'http://x'\nheaders = 3\n", "{p}: [[webhook]] #1.headers: expected a table, got 3"),
    ("[[webhook]]\nname = 'h'\nurl = 'http://x'\nheaders = {A = 1}\n",
     "{p}: [[webhook]] #1.headers.A: expected str, got int 1"),
    ("[detector]\ninput_size = [640]\n", "{p}: [detector].input_size: expected a list of 2 values, got [640]"),
    ("[detector]\ninput_size = [640, 'x']\n", "{p}: [detector].input_size[1]: expected int, got str 'x'"),
    ("[[camera]]\nid = 'a'\nsource = 'x'\nzone = [3]\n", "{p}: [[camera]] #1.zone[0]: expected a table"),
    (CAMERA + "stride = 0\n", "{p}: [[camera]] 'a'.stride: 0 is outside 1..100000"),
    (CAMERA + "read_timeout_s = 0.0\n", "{p}: [[camera]] 'a'.read_timeout_s: 0.0 is outside 0.01..3600 "
     "(0 or less would retry in a busy loop)"),
    ("[detector]\ninput_size = [0, 640]\n", "{p}: [detector].input_size: 0 is outside 32..4096 "
     "(larger inputs need gigabytes of feature maps per frame)"),
    (CAMERA + "time_zone = 'Mars/Olympus'\n", "{p}: [[camera]] 'a': unknown time zone 'Mars/Olympus' (an IANA "
     "name such as UTC or Europe/Madrid)"),
    (CAMERA + "[[camera.zone]]\nname = 'z'\npoints = [[0, 0], [1, 1]]\n",
     "{p}: [[camera.zone]] 'z' of camera 'a': points must be three or more finite [x, y] pixels"),
    (CAMERA + "[[camera.zone]]\nname = 'z'\npoints = [[0, 0], [1, 1], [1e7, 0]]\n",
     "{p}: [[camera.zone]] 'z' of camera 'a': points must be three or more finite [x, y] pixels"),
    (CAMERA + "[[camera.line]]\nname = 'l'\npoints = [[0, 0], [1e7, 0]]\n",
     "{p}: [[camera.line]] 'l' of camera 'a': points must be two different finite [x, y] pixels"),
    (CAMERA + "[[camera.line]]\nname = 'l'\npoints = [[0, 0], [0, 0]]\n",
     "{p}: [[camera.line]] 'l' of camera 'a': points must be two different finite [x, y] pixels"),
    (CAMERA + "[[camera.line]]\nname = 'l'\npoints = [[0, 0], [1, 0]]\n[[camera.line]]\nname = 'l'\n"
     "points = [[0, 1], [1, 1]]\n", "{p}: [[camera.line]] 'l' of camera 'a': every line needs a name of its own"),
    (CAMERA + "job = 'a b'\n", "{p}: [[camera]] 'a': job 'a b' must be letters, digits, '_', '-' or '.'"),
    ("[[camera]]\nid = ''\nsource = 'x'\n", "{p}: [[camera]] id '' must be letters, digits, '_', '-' or '.'"),
    ("[ocr]\nbackend = 'gpu'\n", "{p}: [ocr].backend 'gpu' is not one of auto, onnx, jit, eager"),
    ("[detector]\nbackend = 'gpu'\n", "{p}: [detector].backend 'gpu' is not one of auto, onnx, jit, eager"),
    ("[publish]\nendpoint = 'tcp://0.0.0.0:5556'\n", "{p}: [publish].endpoint 'tcp://0.0.0.0:5556' is not on "
     "loopback; set [publish].allow_remote = true to expose the bus (and consider curve_secret_key)"),
    ("[serve]\nenabled = true\nbind = '0.0.0.0:8080'\n", "{p}: [serve] serving on 0.0.0.0 (beyond loopback) needs a "
     "token: --token or [serve] token (docs/security.md)"),
    ("[serve]\nenabled = true\n[publish]\ncurve_secret_key = 'k'\n", "{p}: [serve] in lpr run reads the bus it binds; "
     "with [publish] connect or CURVE, run `lpr serve --bus ENDPOINT` (with --server-key/--client-key) beside it"),
    ("[serve]\nenabled = true\n[publish]\ncurve_server_key = 'k'\nconnect = true\n", "{p}: [serve] in lpr run reads "
     "the bus it binds; with [publish] connect or CURVE, run `lpr serve --bus ENDPOINT` (with --server-key/"
     "--client-key) beside it"),
    ("[publish]\ncurve_server_key = 'k'\n", "{p}: [publish].curve_server_key is the broker's key: it needs connect = true"),
    ("[publish]\ncurve_clients_dir = 'd'\n", "{p}: [publish].curve_clients_dir needs curve_secret_key"),
    ("[detector]\ninput_size = [640, 100]\n", "{p}: [detector].input_size [640, 100] must be positive multiples of 32"),
    ("[publish]\nvideo = 'out.xyz'\n", "{p}: [publish].video 'out.xyz': unknown video type '.xyz' (use .mp4, .mkv, "
     ".mov, .avi)"),
    ("[publish]\nvideo = '/nonexistent-dir/o.mp4'\n", "{p}: [publish].video '/nonexistent-dir/o.mp4': folder "
     "'/nonexistent-dir' does not exist or is not writable"),
    ("[[watchlist]]\nname = 'w'\n", "{p}: [[watchlist]] 'w': give plates = [...] or file = \"plates.csv\""),
    ("[[watchlist]]\nname = 'w'\nplates = ['A']\nfuzzy = 6.0\n", "{p}: [[watchlist]] 'w'.fuzzy: 6.0 is outside 0..5 "
     "(a distance of 5 or more matches nearly any plate)"),
    ("[[webhook]]\nname = 'h'\nurl = 'ftp://x'\n", "{p}: [[webhook]] 'h': url 'ftp://x' is not an http:// or https:// "
     "address"),
    ("[[webhook]]\nname = 'h'\nurl = 'http://x'\ntimeout_s = 0.0\n", "{p}: [[webhook]] 'h'.timeout_s: 0.0 is outside "
     "0.1..600"),
    ("[[webhook]]\nname = 'h/1'\nurl = 'http://x'\n", "{p}: [[webhook]] 'h/1': every webhook needs a name of its own "
     "(letters, digits, '_', '-', '.')"),
    ("[[webhook]]\nname = 'h'\nurl = 'http://x'\n[[webhook]]\nname = 'h'\nurl = 'http://y'\n", "{p}: [[webhook]] 'h': "
     "every webhook needs a name of its own (letters, digits, '_', '-', '.')"),
    ("[[watchlist]]\nname = 'w'\nplates = ['A']\n[[watchlist]]\nname = 'w'\nplates = ['B']\n", "{p}: [[watchlist]] "
     "'w': every watchlist needs a name of its own"),
    ("[[watchlist]]\nname = 'w'\nfile = 'missing.csv'\n", "{p}: [[watchlist]] 'w': file 'missing.csv' not found"),
    ("[[watchlist]]\nname = 'w'\nplates = ['A']\naction = ''\n", "{p}: [[watchlist]] 'w': action must name what the "
     "alert is for (alert, allow, ...)"),
    (CAMERA + "start_time = 'yesterday'\n", "{p}: [[camera]] 'a': start time 'yesterday' is not ISO-8601 (e.g. "
     "2026-11-25T08:00:00+01:00)"),
    (CAMERA + "time_pattern = 'cam3_Y'\n", "{p}: [[camera]] 'a': time_pattern 'cam3_Y' has no strptime field (%Y, "
     "%m, %d, ...)"),
    ("[[camera]]\nid = 'a/b'\nsource = 'x'\n", "{p}: [[camera]] id 'a/b' must be letters, digits, '_', '-' or '.'"),
    ("[publish]\nvideo = '<dir>/notes.txt/o.mp4'\n", "{p}: [publish].video '<dir>/notes.txt/o.mp4': folder "
     "'<dir>/notes.txt' does not exist or is not writable"),  # a file where the folder should be
]  # fmt: skip


@pytest.mark.parametrize("text,message", EXACT_MESSAGES)
def test_each_refusal_is_one_exact_line_naming_the_file_and_key(tmp_path, text, message):
    """The messages are the interface of a refused config: every word is pinned."""
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    path = write(tmp_path, text.replace("<dir>", str(tmp_path)))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == message.format(p=path).replace("<dir>", str(tmp_path))


@pytest.mark.parametrize(
    "text",
    [
        "[publish]\nendpoint = 'tcp://192.0.2.1:5556'\nconnect = true\n",  # connecting out is no exposure
        "[publish]\nendpoint = 'tcp://0.0.0.0:5556'\nallow_remote = true\n",
        CAMERA + "[[camera.zone]]\nname = 'z'\npoints = [[0, 0], [9999999, 0], [0, 9999999]]\n",
        CAMERA + "[[camera.line]]\nname = 'l'\npoints = [[0, 0], [9999999, 0]]\n",
        CAMERA + "job = 'night-2026.11.25'\n",
        "[detector]\ninput_size = [32, 4096]\n",
        CAMERA + "[publish]\nvideo = 'annotated.mp4'\n",  # one camera, a writable folder
        CAMERA + "start_time = '2026-11-25T08:00:00+01:00'\ntime_zone = 'Europe/Madrid'\n",
        CAMERA + "time_pattern = 'cam3_%Y%m%d_%H%M%S'\n",
        "[serve]\nenabled = true\nbind = '0.0.0.0:8080'\ntoken = 'secret'\n",
        "[[webhook]]\nname = 'h.1'\nurl = 'https://x'\nheaders = {Authorization = 'Bearer t'}\n",
    ],
)
def test_configs_at_the_edges_of_the_rules_are_accepted(tmp_path, text):
    load_config(write(tmp_path, text))


def test_a_config_given_as_data_is_named_as_such():
    with pytest.raises(ConfigError) as err:
        parse_config({"detecter": {}})
    assert str(err.value).startswith("<config>: unknown section 'detecter'")


def test_a_config_file_is_read_as_utf8_whatever_the_locale(tmp_path, monkeypatch):
    monkeypatch.setenv("LC_ALL", "C")
    cfg = load_config(
        write(tmp_path, "[[camera]]\nid = 'gate'\nsource = 'x'\n[[watchlist]]\nname = 'w'\nplates = ['皖A12345']\n")
    )
    assert cfg.watchlist[0].plates == ("皖A12345",)


def test_a_host_runs_its_own_cameras_of_a_site_wide_config():
    from stream.config import cameras_of_host

    site = parse_config(
        {"camera": [{"id": "n", "source": "x", "host": "box1"}, {"id": "s", "source": "y", "host": "box2"}]}, "site"
    )
    assert [c.id for c in cameras_of_host(site, "box2", "site").cameras] == ["s"]
    with pytest.raises(ConfigError) as unnamed:
        cameras_of_host(site, "", "site")
    assert str(unnamed.value) == "site: cameras name their hosts (box1, box2); pass --host NAME"
    with pytest.raises(ConfigError) as unknown:
        cameras_of_host(site, "box3", "site")
    assert str(unknown.value) == "site: no camera has host = 'box3' (hosts: box1, box2)"
    plain = parse_config({"camera": [{"id": "n", "source": "x"}]}, "one")
    assert cameras_of_host(plain, "", "one") == plain
    with pytest.raises(ConfigError, match=r"hosts: none named"):
        cameras_of_host(plain, "box1", "one")
