"""The policy stage: improve a BC policy with a learned reward, roll it out, feed the pool.

Methods (docs/policy.md): best-of-N reranking, KL-anchored advantage-weighted fine-tuning,
IQL, direct preference optimisation and online PPO, each scored by the learned reward
(ensemble mean − k·std), the simulator's own reward (the oracle) and a rule-based safety
term. Rollouts run in worker processes or on Ray (`robopref.policy.rollouts`).
"""
