"""The fake REST API checks parameter values against twilio-oai: types, enums, patterns, ranges, required
and unknown names. Twilio refuses a bad value with HTTP 400 and its error JSON (code 20001, "Invalid
parameter": https://www.twilio.com/docs/api/errors/20001); a name the spec does not document is a mismatch
of the code under test (Twilio drops it silently, so the test fails instead of passing without it)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from harness.engines.twilio.rest import FakeTwilioApi, OpenApiIndex, TwilioApiMismatch
from tests.conftest import real_path  # skips where shared/real (the twilio-oai specs) is absent

AC, WS, FW = "AC" + "a" * 32, "WS" + "b" * 32, "FW" + "c" * 32
WT, FN, WW = "WT" + "1" * 32, "FN" + "2" * 32, "WW" + "3" * 32
TASKS = f"https://taskrouter.twilio.com/v1/Workspaces/{WS}/Tasks"


@pytest.fixture
def fake() -> FakeTwilioApi:
    return FakeTwilioApi(OpenApiIndex.cached(real_path("openapi")))


@pytest.fixture
def client(fake: FakeTwilioApi) -> Client:
    return Client(AC, "auth-token", http_client=fake.http_client())


# (request, what the 400 says). Each cites the twilio-oai schema that refuses it.
REFUSED: list[tuple[str, str, dict[str, Any], str]] = [
    # twilio_taskrouter_v1.json CreateTask: Priority {"type": "integer"}
    ("POST", TASKS, {"Priority": "high", "Attributes": "{}"},
     "Invalid parameter Priority: 'high' is not of type 'integer'"),
    ("POST", TASKS, {"Timeout": "1.5"}, "Invalid parameter Timeout: '1.5' is not of type 'integer'"),
    # CreateTask: WorkflowSid pattern ^WW[0-9a-fA-F]{32}$ (and length 34)
    ("POST", TASKS, {"WorkflowSid": "WW123"}, "Invalid parameter WorkflowSid: 'WW123'"),
    # UpdateTask: AssignmentStatus $ref task_enum_status (pending, reserved, assigned, canceled, completed, wrapping)
    ("POST", f"{TASKS}/{WT}", {"AssignmentStatus": "done"}, "Invalid parameter AssignmentStatus: 'done' is not one of"),
    # UpdateExecution: Status $ref execution_enum_status (active, ended), required
    ("POST", f"https://studio.twilio.com/v2/Flows/{FW}/Executions/{FN}", {"Status": "stopped"},
     "Invalid parameter Status: 'stopped' is not one of ['active', 'ended']"),
    ("POST", f"https://studio.twilio.com/v2/Flows/{FW}/Executions/{FN}", {},
     "Missing required parameter Status in the post body"),
    # CreateActivity: Available {"type": "boolean"}; FriendlyName required
    ("POST", f"https://taskrouter.twilio.com/v1/Workspaces/{WS}/Activities", {"FriendlyName": "x", "Available": "yes"},
     "Invalid parameter Available: 'yes' is not of type 'boolean'"),
    # ListTask query: PageSize {"type": "integer", "minimum": 1, "maximum": 1000}
    ("GET", f"{TASKS}?PageSize=5000", {}, "Invalid parameter PageSize: 5000 is greater than the maximum of 1000"),
    # CreateExecution: To and From required
    ("POST", f"https://studio.twilio.com/v2/Flows/{FW}/Executions", {"From": "+15005550001"},
     "Missing required parameter To in the post body"),
]


@pytest.mark.parametrize(("method", "url", "data", "says"), REFUSED, ids=[r[3][:48] for r in REFUSED])
def test_a_value_the_spec_refuses_is_twilios_400(fake: FakeTwilioApi, client: Client, method: str, url: str,
                                                  data: dict[str, Any], says: str) -> None:
    fake.add(method, url.split("?", 1)[0], json={})  # a route does not override Twilio's own refusal
    with pytest.raises(TwilioRestException) as caught:
        _send(client, method, url, data)
    assert caught.value.status == 400 and caught.value.code == 20001
    assert says in caught.value.msg
    assert fake.calls[-1].status == 400 and fake.calls[-1].response["more_info"].endswith("/20001")
    assert fake.failures == []


def _send(client: Client, method: str, url: str, data: dict[str, Any]) -> None:
    response = client.request(method, url, data=data)
    if response.status_code >= 400:  # what twilio-python's resources do with an error answer
        body = json.loads(response.text)
        raise TwilioRestException(response.status_code, url, body["message"], body["code"], method)


def test_the_same_400_reaches_code_using_requests(fake: FakeTwilioApi) -> None:
    with fake.intercept():
        refused = requests.post(TASKS, data={"Priority": "soon"}, timeout=5)
    assert refused.status_code == 400
    assert refused.json() == {"code": 20001, "status": 400,
                              "message": "Invalid parameter Priority: 'soon' is not of type 'integer'",
                              "more_info": "https://www.twilio.com/docs/errors/20001"}


def test_wire_text_is_read_by_the_parameter_type(fake: FakeTwilioApi, client: Client) -> None:
    # On the wire every form value is text: "3" is an integer, "true" a boolean, a repeated key an array.
    fake.add("POST", "/v1/Workspaces/{WorkspaceSid}/Tasks", json={"sid": WT})
    fake.add("POST", "/v1/Workspaces/{WorkspaceSid}/Activities", json={"sid": "WA" + "0" * 32})
    fake.add("POST", "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}", json={})
    client.taskrouter.v1.workspaces(WS).tasks.create(priority=3, timeout=600, workflow_sid=WW, attributes="{}")
    client.taskrouter.v1.workspaces(WS).activities.create(friendly_name="Lunch", available=True)
    client.request("POST", f"{TASKS}/{WT}/Reservations/WR{'4' * 32}",
                   data={"StatusCallbackEvent": ["initiated", "ringing"], "Available": None})
    assert [call.status for call in fake.calls] == [201, 201, 200]
    assert fake.calls[1].data["Available"] == "true"


def test_an_unknown_parameter_fails_the_test_naming_the_close_one(client: Client) -> None:
    # Twilio ignores a parameter it does not document: the Task would be created without its workflow.
    with pytest.raises(TwilioApiMismatch, match=r"unknown parameter WorkflowSID for CreateTask "
                                                r"\(did you mean WorkflowSid\?\)"):
        client.request("POST", TASKS, data={"WorkflowSID": WW, "Attributes": "{}"})


def test_an_unknown_query_parameter_fails_too(client: Client) -> None:
    with pytest.raises(TwilioApiMismatch, match="unknown parameter Colour for ListTask"):
        client.request("GET", TASKS, params={"Colour": "red"})
