package junction

import "context"

type contextKey int

const userContextKey contextKey = iota

// NewContextWithUser returns a copy of ctx that carries the signed-in user.
func NewContextWithUser(ctx context.Context, user *User) context.Context {
	return context.WithValue(ctx, userContextKey, user)
}

// UserFromContext returns the signed-in user, or nil when the request is anonymous.
func UserFromContext(ctx context.Context) *User {
	user, _ := ctx.Value(userContextKey).(*User)
	return user
}
