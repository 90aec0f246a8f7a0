/**
 * The starter policy `mosaic budget policy init` writes: a typical fleet with two Claude Max
 * subscriptions, one Codex (ChatGPT) plan and one metered Anthropic API key. docs/policy.md explains
 * every field; a test checks it parses with the core's policy schema.
 */
export const STARTER_POLICY = `# Mosaic Fleet budget policy — keep this file in git and apply it with:
#   mosaic budget policy apply budget-policy.yaml --dry-run   # validate and show the difference
#   mosaic budget policy apply budget-policy.yaml             # make it live
# Every field is optional; docs/policy.md documents each one.
#
# The accounts it names are created once with \`mosaic budget set\`, for example:
#   mosaic budget set --account max-a --provider anthropic --kind subscription \\
#     --models claude-opus-4-1,claude-sonnet-4-5,claude-haiku-4-5 --timezone America/Chicago \\
#     --window weekly --window-length P7D --reset-at "fri 17:00"
#   mosaic budget set --account max-a --window session --window-length PT5H --rolling
#   mosaic budget set --account max-b --provider anthropic --kind subscription \\
#     --models claude-opus-4-1,claude-sonnet-4-5,claude-haiku-4-5 --window weekly --window-length P7D
#   mosaic budget set --account codex-plus --provider openai --kind subscription \\
#     --models gpt-5-codex,gpt-5-mini --window weekly --window-length P7D
#   mosaic budget set --account anthropic-api --provider anthropic --kind api \\
#     --models claude-sonnet-4-5,claude-haiku-4-5 --ceiling-usd 200 --period P1M
version: 1

# Models from most to least capable, across providers. A downgrade steps down this ladder.
ladder:
  - claude-opus-4-1
  - claude-sonnet-4-5
  - gpt-5-codex
  - claude-haiku-4-5
  - gpt-5-mini

# Which accounts may serve each task class, and how a task of the class is estimated cold.
taskClasses:
  architecture:
    accounts: [max-a, max-b]
    ladder: [claude-opus-4-1, claude-sonnet-4-5]
    estimate: { tokens: 400000 }
  feature:
    accounts: [max-a, max-b, codex-plus]
    estimate: { tokens: 150000 }
  review:
    accounts: [max-b, codex-plus, anthropic-api]
    estimate: { tokens: 60000 }
  hotfix:
    # A hotfix may not wait in the queue: refuse it at once if nothing can run it now.
    queue: false
    estimate: { tokens: 80000 }

# Accounts tried in this order when the asked-for one has no headroom (reroute).
# The metered key comes last: it costs real money.
routing:
  order: [max-a, max-b, codex-plus, anthropic-api]

# Hard USD ceilings: committed + reserved + estimate never exceed them.
ceilings:
  providers: {}
  accounts:
    anthropic-api: { usd: "200", period: P1M }

# Most tasks in flight at once.
concurrency:
  tenant: 12
  providers:
    anthropic: 8
  accounts:
    codex-plus: 3

pacing:
  # How far ahead of the even pace line a window may run: one hour's worth of its even rate.
  burst: { pace: PT1H }
  # API-equivalent USD a window is assumed to hold before calibration learns better.
  defaultCapacityUsd: "500"

urgency:
  priority: { low: 0, normal: 1, high: 2, critical: 3 }
  # Levels that skip pacing when an urgency-bypass authorization covers them.
  bypassLevels: [high, critical]

# An admitted task's reservation expires if not committed within this time.
reservations:
  ttl: PT30M

queue:
  enabled: true
  maxWait: PT12H

# When the gate cannot reach its database: refuse (fail closed) or allow-capped.
failure:
  onDatabaseDown: refuse

# Price overrides, USD per million tokens (the shipped table covers the common models).
prices: {}

# Standing authorizations kept in the file itself.
authorizations: []

# Estimate used when neither the request nor the task class gives one.
defaultEstimate: { tokens: 50000 }
`;
