package auth

import "context"

// HoldHashing takes every slot of s's password hashing gate, as a burst of
// sign-ins would, until release is called.
func HoldHashing(s *Service) (release func()) {
	if err := s.hashes.sem.Acquire(context.Background(), s.hashes.capacity); err != nil {
		panic(err)
	}
	return func() { s.hashes.sem.Release(s.hashes.capacity) }
}

// LimitSubject is how an email appears in rate-limit keys.
var LimitSubject = limitSubject
