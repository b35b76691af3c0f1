"""The web view in a real browser: headless Chromium over loopback HTTP against the pages
served by uvicorn, on a played area (tests/webworld.py). Screenshots go to
build/screenshots/ (the chief's area page and a partner's page, phone and desktop)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import update
from webserve import DESKTOP, PHONE, browser_missing, chromium, screenshot, serve
from webworld import World, build_world

from medlofte_bot.services.web import WebAccess
from medlofte_bot.storage import models as m
from medlofte_bot.web.security import SESSION_COOKIE

if (why := browser_missing()) is not None:  # never skipped: a clear failure instead
    pytest.fail(why, pytrace=False)

POLICE_WORDS = ("Narkotikainsats", "narkotika", "Narkotika")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(f"sqlite:///{tmp_path}/web.db")


@pytest.fixture
def site(world: World) -> Iterator[str]:
    with serve(world.ctx) as base:
        yield base


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chrome]:
    with chromium(tmp_path / "profile") as driver:
        yield driver


def link(world: World, who: str) -> str:
    """A fresh one-time login path for ``who`` (as /webb and login-link make them)."""
    return f"/webb/logga-in/{WebAccess(world.ctx).login_link(world.people[who]).token}"


def press(driver: Chrome, element: WebElement, key: str | None = None) -> None:
    """Click (or press ``key`` on) an element and wait for the next page to load: the mark
    set on this document is gone from the next one (a stale-element check races Chromium,
    which may answer that the old node no longer belongs to the document)."""
    driver.execute_script("window.__before_press = true;")
    if key is None:
        element.click()
    else:
        element.send_keys(key)
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !window.__before_press;"))


def log_in(driver: Chrome, site: str, world: World, who: str) -> None:
    driver.get(site + link(world, who))
    press(driver, driver.find_element(By.ID, "login"))
    assert driver.find_element(By.TAG_NAME, "h1").text != "Logga in"


def h1(driver: Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def body(driver: Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def test_the_chief_logs_in_through_a_link_reads_the_area_and_opens_a_task(
        world: World, site: str, browser: Chrome) -> None:
    log_in(browser, site, world, "kim")
    assert browser.current_url == f"{site}/webb/"
    assert h1(browser) == "Löftena"
    headings = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "main section h2")]
    assert headings[:3] == ["Arjeplog", "Arvidsjaur", "Älvsbyn"]
    text = body(browser)
    assert "Riktade insatser mot narkotika" in text and "Inloggad som Kim" in text
    # the chart is inline SVG with a title and a description, and the numbers are text too
    svg_title = browser.find_element(By.CSS_SELECTOR, "figure.chart svg title")
    assert "Medborgarlöften 2015" in str(svg_title.get_attribute("textContent"))
    assert browser.find_element(By.CSS_SELECTOR, "figure.chart svg desc")
    assert browser.find_elements(By.CSS_SELECTOR, "table th[scope=col]")
    screenshot(browser, "chief-area-phone", PHONE[0])
    screenshot(browser, "chief-area-desktop", DESKTOP[0])
    press(browser, browser.find_element(By.LINK_TEXT, "Kalendern"))
    assert h1(browser) == "Kalendern: mars 2015"
    press(browser, browser.find_element(
        By.CSS_SELECTOR, f"a[href='/webb/uppdrag/{world.tasks['joint']}']"))
    assert h1(browser).startswith(f"Uppgift #{world.tasks['joint']}: Krogtillsyn")
    text = body(browser)
    assert "Deltar: Pia" in text and "Historik" in text and "Planerad" in text
    browser.get(f"{site}/webb/uppdrag/{world.tasks['police_later']}")
    assert "Flyttad från lördag 11 april kl. 18.00 till söndag 12 april kl. 18.00, av Olle" \
        in body(browser)
    browser.get(f"{site}/webb/sammanfattningar")
    assert "Narkotikainsatser 1 av 6" in body(browser)
    browser.get(f"{site}/webb/arsrapport")
    assert "Intern version" in body(browser) and "Olle" in body(browser)


def _calendar_text(driver: Chrome, site: str) -> str:
    seen = []
    for month in range(1, 13):
        driver.get(f"{site}/webb/kalender/2015/{month}")
        seen.append(body(driver))
    return "\n".join(seen)


def test_a_partner_sees_no_police_only_task_on_any_page_or_in_the_feed(
        world: World, site: str, browser: Chrome) -> None:
    log_in(browser, site, world, "pia")
    area = body(browser)
    assert "Närvaro vid riskkvällar" in area and "Arvidsjaur" in area
    assert not any(word in area for word in POLICE_WORDS)
    assert "Arjeplog" not in area  # her own municipality only
    screenshot(browser, "partner-area-phone", PHONE[0])
    calendar = _calendar_text(browser, site)
    assert f"#{world.tasks['joint']} Krogtillsyn" in calendar
    assert not any(word in calendar for word in POLICE_WORDS)
    assert f"#{world.tasks['police_done']} " not in calendar
    browser.get(f"{site}/webb/kalender/2015/3")
    screenshot(browser, "partner-calendar-phone", PHONE[0])
    for key in ("police_done", "police_later", "school_done"):
        browser.get(f"{site}/webb/uppdrag/{world.tasks[key]}")
        assert "Sidan finns inte" in body(browser), key
    browser.get(f"{site}/webb/uppdrag/{world.tasks['joint']}")
    task = body(browser)
    assert "Deltar: Pia" in task and "Olle" not in task
    browser.get(f"{site}/webb/sammanfattningar")
    summaries = body(browser)
    assert "Krogtillsyner 1 av 6" in summaries and "Narkotikainsatser" not in summaries
    browser.get(f"{site}/webb/arsrapport")
    report = body(browser)
    assert "Offentlig version" in report and "visas inte förrän året är slut" in report
    assert not any(word in report for word in POLICE_WORDS) and "Olle" not in report
    browser.get(f"{site}/webb/")
    press(browser, browser.find_element(
        By.XPATH, "//button[normalize-space()='Gör en kalenderadress']"))
    feed_url = str(browser.find_element(By.ID, "feed-url").get_attribute("value"))
    assert feed_url.startswith(f"{site}/webb/kalender/") and feed_url.endswith(".ics")
    with urllib.request.urlopen(feed_url, timeout=10) as answer:
        ics = answer.read().decode("utf-8")
    assert "BEGIN:VCALENDAR" in ics and "Krogtillsyn" in ics
    assert "CONFIDENTIAL" not in ics and not any(word in ics for word in POLICE_WORDS)
    # a new address revokes the old one
    browser.get(f"{site}/webb/")
    press(browser, browser.find_element(
        By.XPATH, "//button[normalize-space()='Gör en ny kalenderadress']"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(feed_url, timeout=10)
    assert refused.value.code == 404


def _signed_in(driver: Chrome, site: str) -> bool:
    driver.get(f"{site}/webb/")
    return h1(driver) == "Löftena"


def _cookie(driver: Chrome) -> str:
    found = driver.get_cookie(SESSION_COOKIE)
    assert found is not None
    assert found["httpOnly"] is True and found["sameSite"] == "Lax"
    return str(found["value"])


def _set_cookie(driver: Chrome, site: str, value: str) -> None:
    driver.get(f"{site}/webb/stil.css")
    driver.delete_all_cookies()
    driver.add_cookie({"name": SESSION_COOKIE, "value": value, "path": "/webb"})


def test_a_forged_or_expired_cookie_a_used_or_expired_link_and_another_areas_ids_are_refused(
        world: World, site: str, browser: Chrome) -> None:
    log_in(browser, site, world, "kim")
    good = _cookie(browser)
    token, _, mac = good.rpartition(".")
    _set_cookie(browser, site, f"{token}.{'0' * len(mac)}")  # forged signature
    assert not _signed_in(browser, site)
    assert "Du är inte inloggad" in body(browser)
    _set_cookie(browser, site, f"{token[:-2]}xy.{mac}")  # another token, the old signature
    assert not _signed_in(browser, site)
    _set_cookie(browser, site, good)
    assert _signed_in(browser, site)
    # another area's task reads as no task at all
    browser.get(f"{site}/webb/uppdrag/{world.tasks['other_area']}")
    assert "Sidan finns inte" in body(browser)
    browser.get(f"{site}/webb/uppdrag/999999")
    assert "Sidan finns inte" in body(browser)
    # a used link
    used = link(world, "kim")
    browser.get(site + used)
    press(browser, browser.find_element(By.ID, "login"))
    browser.get(site + used)
    press(browser, browser.find_element(By.ID, "login"))
    assert "redan använd" in body(browser)
    # an expired link: valid 10 minutes of the injected clock
    late = link(world, "olle")
    world.clock.advance(minutes=10, seconds=1)
    browser.get(site + late)
    press(browser, browser.find_element(By.ID, "login"))
    assert "har gått ut" in body(browser)
    # an expired session: 12 hours after login
    _set_cookie(browser, site, good)
    assert _signed_in(browser, site)
    world.clock.advance(hours=12)
    assert not _signed_in(browser, site)


def test_logout_ends_the_session_and_a_deactivated_member_loses_access(
        world: World, site: str, browser: Chrome) -> None:
    log_in(browser, site, world, "olle")
    kept = _cookie(browser)
    press(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Logga ut']"))
    assert h1(browser) == "Du är utloggad."
    assert browser.get_cookie(SESSION_COOKIE) is None
    _set_cookie(browser, site, kept)  # a copy of the cookie opens nothing any more
    assert not _signed_in(browser, site)
    log_in(browser, site, world, "gone")
    assert _signed_in(browser, site)
    with world.db.transaction() as s:
        s.execute(update(m.Member).where(m.Member.telegram_id == world.people["gone"])
                  .values(active=False))
    assert not _signed_in(browser, site)


def test_after_login_the_page_asked_for_opens(world: World, site: str,
                                              browser: Chrome) -> None:
    wanted = f"/webb/uppdrag/{world.tasks['joint']}"
    browser.get(site + wanted)
    assert h1(browser) == "Logga in" and "Skicka /webb" in body(browser)
    browser.get(site + link(world, "olle"))
    press(browser, browser.find_element(By.ID, "login"))
    assert browser.current_url == site + wanted


def _focused(driver: Chrome) -> tuple[str, str, str]:
    """The focused element's tag, text and outline style (keyboard focus must show)."""
    found = driver.execute_script(
        "const e = document.activeElement; const s = getComputedStyle(e);"
        "return [e.tagName, (e.innerText || e.value || '').trim(), s.outlineStyle];")
    return str(found[0]), str(found[1]), str(found[2])


def _tab(driver: Chrome, times: int = 1) -> tuple[str, str, str]:
    for _ in range(times):
        driver.switch_to.active_element.send_keys(Keys.TAB)
    return _focused(driver)


def test_the_login_and_task_pages_work_with_the_keyboard(world: World, site: str,
                                                        browser: Chrome) -> None:
    browser.get(site + link(world, "kim"))
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert _focused(browser) == ("A", "Hoppa till innehållet", "solid")
    assert _tab(browser)[:2] == ("A", "Medborgarlöften")
    tag, text, outline = _tab(browser)
    assert (tag, text, outline) == ("BUTTON", "Logga in", "solid")
    press(browser, browser.switch_to.active_element, Keys.ENTER)
    assert h1(browser) == "Löftena"
    browser.get(f"{site}/webb/uppdrag/{world.tasks['joint']}")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert _focused(browser)[1] == "Hoppa till innehållet"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert browser.execute_script("return document.activeElement.id") == "main"
    # from the skip link's target, the next stop is the page's own link, past the menu
    assert _tab(browser) == ("A", "← Tillbaka till kalendern", "solid")
    press(browser, browser.switch_to.active_element, Keys.ENTER)
    assert h1(browser) == "Kalendern: mars 2015"
    # the whole way round: every link and button of the page is reached, each with a ring
    browser.get(f"{site}/webb/uppdrag/{world.tasks['joint']}")
    stops = [_tab(browser) for _ in range(8)]
    assert ("BUTTON", "Logga ut", "solid") in stops
    assert all(outline == "solid" for _, _, outline in stops)


def test_the_session_cookie_lasts_as_long_as_the_session(world: World, site: str,
                                                        browser: Chrome) -> None:
    log_in(browser, site, world, "kim")
    cookie = browser.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie["path"] == "/webb" and cookie["secure"] is False
    left = cookie["expiry"] - int(time.time())
    assert timedelta(hours=11) < timedelta(seconds=left) <= timedelta(hours=12)
