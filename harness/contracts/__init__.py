"""Contract tests of the hand-off payload (Pact V4) and the Twilio rules Pact cannot express.

Two directions (docs in contracts/README.md):

- HTTP hand-off: the Studio flow is the consumer, the contact center the provider.
  `consumer.HandoffPactWriter` turns recorded HTTP hand-offs into `<consumer>-<provider>.json`;
  `verify.verify` checks a running vendor endpoint against such pacts.
- Flex hand-off: the contact center consumes the task attributes, the flow provides them.
  `messages.write_message_pacts` writes message pacts from a JSON Schema; `messages.verify_messages`
  checks attributes produced per provider state.

pact-python is imported lazily (`harness.contracts._pact`), so importing this package stays cheap and
works where the `contracts` extra is not installed until a pact is actually built or verified.
"""

from __future__ import annotations

from harness.contracts.results import ContractFailed, ContractProblem, InteractionResult, VerifyResult

__all__ = ["ContractFailed", "ContractProblem", "InteractionResult", "VerifyResult"]
