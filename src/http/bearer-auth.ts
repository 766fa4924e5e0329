// Bearer-token check for `/v1` and `/metrics`. Both sides are hashed first so
// that timingSafeEqual compares equal lengths and the time taken says nothing
// about the token's length or content.
import { createHash, timingSafeEqual } from 'node:crypto'
import { HttpError } from './http-error.js'

export type AuthCheck = (authorization: string | undefined) => void

export function bearerAuth(token: string | undefined): AuthCheck {
  if (token === undefined || token === '') return () => undefined
  const expected = digest(token)
  return (authorization) => {
    const presented = authorization !== undefined && authorization.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined
    // Hash even when absent, so a missing header costs the same as a wrong one.
    const ok = timingSafeEqual(digest(presented ?? ''), expected) && presented !== undefined
    if (!ok) throw new HttpError('UNAUTHORIZED', 'a valid bearer token is required')
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
