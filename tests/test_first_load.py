"""The participant page's first load fits a poor line: its bytes on the wire, counted by the browser."""

import pytest
from playwright.async_api import Request

from support import joined
from test_polls import create_poll, set_poll

#: Issue 14's budget for a first load with a cold cache: bodies as compressed on the wire, and
#: their HTTP/1.1 headers, as a browser's "transferred" counts them.
TOTAL_BUDGET = 35 * 1024
DOCUMENT_BUDGET = 15 * 1024
QUESTIONS = [
    "How will the assembly's recommendations be followed up, and by whom?",
    "When will the minutes be published, and where can we read them?",
    "Will remote participants' votes count as much as those in the room?",
    "What happens to the questions that are not answered today?",
    "How were the members of the assembly chosen, and who checked it?",
    "Can the council explain how the budget for the scheme was set?",
    "Who decides which recommendations go to the full council meeting?",
    "Will there be a session in the evening for people who work days?",
    "How is personal data from today's event stored, and for how long?",
    "Is there an easy-read version of the background papers?",
    "What will change for bus routes in the north of the town?",
    "Can we see the evidence the expert speakers relied on?",
    "How will young people be involved in the next stage?",
    "Why was the consultation period only four weeks long?",
]
POLLS = [
    ({"kind": "single", "question": "Was today's session useful?", "options": ["Yes", "Partly", "No"]},
     [0, 1, 0]),
    ({"kind": "multiple", "question": "Which topics should come next?", "max_choices": 2,
      "options": ["Transport", "Housing", "Green spaces", "Libraries"]}, [[0, 2], [1], [0, 3]]),
    ({"kind": "rating", "question": "How clear were the speakers?"}, [4, 5, 3]),
    ({"kind": "ranking", "question": "Rank these priorities",
      "options": ["Safety", "Cost", "Speed"]}, [[0, 1, 2], [2, 0, 1], [0, 2, 1]]),
    ({"kind": "word_cloud", "question": "One word for today?"}, [["hopeful"], ["long"], ["hopeful"]]),
]


@pytest.fixture
async def busy(server) -> dict:
    """An event as a participant would meet it mid-way: questions with votes, a written answer,
    open polls of each kind with answers, and a closed one."""
    created = await server.create_event("Citizens' assembly on transport",
                                        description="Day one: the evidence and your questions.")
    code = created["event"]["code"]
    people = [await joined(server, code, attendance, name)
              for attendance, name in (("in_room", "Priya"), ("remote", None), ("in_room", "Tom"))]
    asked = [await people[i % len(people)].ask(text) for i, text in enumerate(QUESTIONS)]
    for i, question in enumerate(asked):
        others = [p for p in people if p is not people[i % len(people)]]
        for voter in others[: i % len(others) + 1]:
            await voter.ok("upvote", {"question_id": question["id"]})
    status, _ = await server.api(
        "POST", f"/api/events/{code}/questions/{asked[0]['id']}/disposition",
        {"disposition": "answered_in_writing", "response": "The council replies in May."},
    )
    assert status == 200
    for number, (spec, answers) in enumerate(POLLS):
        poll = await create_poll(server, code, spec)
        await set_poll(server, code, poll["id"], "open")
        for person, value in zip(people, answers):
            await person.ok("answer", {"poll_id": poll["id"], "value": value})
        if number == 2:
            await set_poll(server, code, poll["id"], "close")
    for person in people:
        await person.close()
    return created


@pytest.mark.parametrize("language", ["en", "cy"])
async def test_a_first_load_fits_the_budget_of_a_poor_line(server, busy, browser, language):
    code = busy["event"]["code"]
    context = await browser.new_context(viewport={"width": 360, "height": 740},
                                        extra_http_headers={"Accept-Language": language})
    page = await context.new_page()
    loaded: list[Request] = []
    page.on("requestfinished", lambda request: loaded.append(request))
    await page.goto(f"{server.url}/e/{code}")
    await page.wait_for_load_state("networkidle")
    await page.get_by_text(QUESTIONS[1], exact=True).wait_for()
    assert await page.get_attribute("html", "lang") == language
    wire: dict[str, int] = {}
    for request in loaded:
        if "/socket.io/" in request.url:
            continue
        response = await request.response()
        sizes = await request.sizes()
        assert response is not None and response.status == 200, request.url
        if response.headers.get("content-type", "").startswith(("text/", "image/svg")):
            assert response.headers.get("content-encoding") in ("br", "gzip"), request.url
        wire[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    document = wire[f"{server.url}/e/{code}"]
    assert len(wire) >= 8, wire  # the page, its stylesheet and its six scripts, the icon
    assert document <= DOCUMENT_BUDGET, document
    assert sum(wire.values()) <= TOTAL_BUDGET, wire
    await context.close()
