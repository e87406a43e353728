package vllm

import (
	"hash/fnv"
	"slices"
)

// pick chooses the replica for the next attempt among those not yet tried, preferring
// replicas whose last probe listed the requested model (base or adapter).
//
// With an affinity key every available replica gets a rendezvous score
// mix(key ^ seed) and the best-scoring one wins, so a key keeps its replica (and its
// vLLM prefix cache) while the set of replicas is stable, and only keys of a replica
// that leaves move. The winner is passed over while it has more than AffinitySlack
// requests in flight above the least loaded candidate. Without a key the least loaded
// candidate wins, ties rotating.
func (p *Pool) pick(affinity bool, key, tried uint64, model string) *replica {
	if model != "" {
		if r := p.pickAmong(affinity, key, tried, model); r != nil {
			return r
		}
	}
	return p.pickAmong(affinity, key, tried, "")
}

// pickAmong is pick restricted to replicas known to serve model ("" = any). A replica
// not probed yet counts as serving everything.
func (p *Pool) pickAmong(affinity bool, key, tried uint64, model string) *replica {
	now := p.now()
	var best, least *replica
	var bestScore uint64
	minLoad := int64(-1)
	n := len(p.replicas)
	start := 0
	if !affinity {
		start = int(p.rr.Add(1) % uint64(n))
	}
	for i := range n {
		r := p.replicas[(start+i)%n]
		if tried&(1<<r.idx) != 0 {
			continue
		}
		r.mu.Lock()
		ok := r.availableLocked(p, now) &&
			(model == "" || len(r.models) == 0 || slices.Contains(r.models, model))
		r.mu.Unlock()
		if !ok {
			continue
		}
		load := r.inFlight.Load()
		if minLoad < 0 || load < minLoad {
			minLoad, least = load, r
		}
		if affinity {
			if s := mix64(key ^ r.seed); best == nil || s > bestScore {
				best, bestScore = r, s
			}
		}
	}
	if !affinity || best == nil {
		return least
	}
	if p.cfg.AffinitySlack >= 0 && best.inFlight.Load() > minLoad+int64(p.cfg.AffinitySlack) {
		return least
	}
	return best
}

func hashKey(k string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k))
	return h.Sum64()
}

// mix64 is the splitmix64 finaliser: it spreads FNV's weak low bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
