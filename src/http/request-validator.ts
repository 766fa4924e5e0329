// Compiles the request schemas with ajv and turns the first violation into a
// 400 INVALID_ARGUMENT that names the field. Queries are validated with type
// coercion (they arrive as strings); bodies are not coerced.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { HttpError } from './http-error.js'
import type { JsonSchema } from './request-schemas.js'

export type Validator<T> = (value: unknown) => T

const bodyAjv = new Ajv({ allErrors: false, strict: true, strictTypes: false })
const queryAjv = new Ajv({ allErrors: false, strict: true, strictTypes: false, coerceTypes: true })

export function bodyValidator<T>(schema: JsonSchema): Validator<T> {
  return lazy<T>(() => bodyAjv.compile(schema), 'body')
}

/** A query is checked (and its numbers coerced) as an object of its parameters. */
export function queryValidator<T>(schema: JsonSchema): Validator<T> {
  return lazy<T>(() => queryAjv.compile(schema), 'query')
}

// Compiling costs tens of milliseconds per schema: do it on first use, not at import.
function lazy<T>(compile: () => ValidateFunction, where: 'body' | 'query'): Validator<T> {
  let validate: ValidateFunction | undefined
  return (value) => {
    validate ??= compile()
    if (validate(value)) return value as T
    throw invalid(validate.errors?.[0], where)
  }
}

function invalid(error: ErrorObject | undefined, where: 'body' | 'query'): HttpError {
  if (error === undefined) return new HttpError('INVALID_ARGUMENT', `the request ${where} is invalid`)
  let field = error.instancePath.replace(/^\//, '')
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty?: unknown }).additionalProperty)
    field = field === '' ? extra : `${field}/${extra}`
    return new HttpError('INVALID_ARGUMENT', `${where} field '${field}' is not allowed`, { field: qualified(where, field) })
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty?: unknown }).missingProperty)
    field = field === '' ? missing : `${field}/${missing}`
    return new HttpError('INVALID_ARGUMENT', `${where} field '${field}' is required`, { field: qualified(where, field) })
  }
  if (field === '') return new HttpError('INVALID_ARGUMENT', `the request ${where} ${error.message ?? 'is invalid'}`)
  return new HttpError('INVALID_ARGUMENT', `${where} field '${field}' ${error.message ?? 'is invalid'}`, { field: qualified(where, field) })
}

function qualified(where: 'body' | 'query', field: string): string {
  return where === 'query' ? `query.${field}` : field
}
