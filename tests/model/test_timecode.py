import pytest

from jointplan.model import TimecodeError, format_duration, format_time, parse_duration, parse_time


@pytest.mark.parametrize(("text", "minutes"), [
    ("T+30h", 1800), ("T+1d6h", 1800), ("T-2d", -2880), ("T+90m", 90), ("T+0h", 0),
    ("T+1d12h30m", 2190),
])
def test_times_parse_to_minutes_after_t0(text, minutes):
    assert parse_time(text) == minutes


@pytest.mark.parametrize("text", ["30h", "T+", "T+30", "T+30H", "T 30h", "T+1h1d", "", "T+-3h"])
def test_malformed_times_are_refused_with_the_forms_to_use(text):
    with pytest.raises(TimecodeError, match="T\\+30h"):
        parse_time(text)


@pytest.mark.parametrize(("text", "minutes"), [("90m", 90), ("6h", 360), ("2d", 2880),
                                               ("1d12h", 2160), ("0h", 0)])
def test_durations_parse_to_minutes(text, minutes):
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["90", "6 h", "-2h", "h", "1.5h"])
def test_malformed_durations_are_refused(text):
    with pytest.raises(TimecodeError):
        parse_duration(text)


@pytest.mark.parametrize("minutes", [0, 1, 59, 60, 1440, 1800, -2880, 2191, -7])
def test_formatting_round_trips(minutes):
    assert parse_time(format_time(minutes)) == minutes
    assert parse_duration(format_duration(abs(minutes))) == abs(minutes)
