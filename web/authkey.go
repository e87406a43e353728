package web

import (
	"slices"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// callerFromKey is the caller an API key stands for: its ids, scopes and quotas.
func callerFromKey(k store.APIKey) realtime.Caller {
	c := realtime.Caller{
		KeyID:  k.ID,
		Scopes: slices.Clone([]string(k.Scopes)),
		Quota:  realtime.Quota{TokensPerMinute: int64(k.TokensPerMinute), TokensPerDay: int64(k.TokensPerDay)},
	}
	if k.UserID != nil {
		c.UserID = *k.UserID
	}
	return c
}
