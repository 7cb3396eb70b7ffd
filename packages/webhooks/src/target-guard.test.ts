import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import {
  type AddressResolver,
  checkTargetHost,
  classifyTargetAddress,
  guardedLookup,
  TargetNotAllowedError,
  targetNotAllowedIn,
} from './target-guard.js'

describe('classifyTargetAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    // IPv6 forms that carry an IPv4 address are judged by it.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['::8.8.8.8', 'reserved'],
    ['not-an-ip', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyTargetAddress(address)).toBe(kind)
  })

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '100.63.255.255',
    '192.169.0.1',
    '169.253.255.255',
    '2606:4700::6810:84e5',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ])('%s is a public address', (address) => {
    expect(classifyTargetAddress(address)).toBeNull()
  })
})

describe('checkTargetHost', () => {
  it('refuses private IP literals, with or without brackets, unless private targets are allowed', () => {
    expect(checkTargetHost('127.0.0.1')?.kind).toBe('loopback')
    expect(checkTargetHost('[::1]')?.kind).toBe('loopback')
    expect(checkTargetHost('[::ffff:7f00:1]')?.kind).toBe('loopback')
    expect(checkTargetHost('127.0.0.1', { allowPrivateTargets: true })).toBeNull()
    expect(checkTargetHost('8.8.8.8')).toBeNull()
  })

  it('leaves host names to the lookup', () => {
    expect(checkTargetHost('localhost')).toBeNull()
  })
})

function lookupWith(addresses: LookupAddress[], allowPrivateTargets = false) {
  const resolve: AddressResolver = (_hostname, _options, callback) => callback(null, addresses)
  const lookup = guardedLookup({ resolve, allowPrivateTargets })
  const call = (all: boolean) =>
    new Promise<{ error: Error | null; result: unknown; family?: number }>((done) => {
      lookup('receiver.example', { all }, (error, result, family) =>
        done({ error, result, ...(family !== undefined ? { family } : {}) }),
      )
    })
  return call
}

describe('guardedLookup', () => {
  it('refuses a name when any of its addresses is refused', async () => {
    const call = lookupWith([
      { address: '93.184.215.14', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ])
    const { error } = await call(true)
    expect(error).toBeInstanceOf(TargetNotAllowedError)
    const refusal = error as TargetNotAllowedError
    expect(refusal).toMatchObject({ code: 'TARGET_NOT_ALLOWED', hostname: 'receiver.example', kind: 'metadata' })
    expect(refusal.message).toContain('receiver.example resolves to 169.254.169.254')
    expect(refusal.message).toContain('WEBHOOK_ALLOW_PRIVATE_TARGETS')
  })

  it('answers in the shape asked for: every address, or the first with its family', async () => {
    const addresses = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:4700::6810:84e5', family: 6 },
    ]
    const call = lookupWith(addresses)
    expect(await call(true)).toEqual({ error: null, result: addresses })
    expect(await call(false)).toEqual({ error: null, result: '93.184.215.14', family: 4 })
  })

  it('lets private addresses through when private targets are allowed', async () => {
    const call = lookupWith([{ address: '127.0.0.1', family: 4 }], true)
    expect(await call(false)).toEqual({ error: null, result: '127.0.0.1', family: 4 })
  })

  it('refuses localhost through the system resolver', async () => {
    const lookup = guardedLookup()
    const error = await new Promise<Error | null>((done) => lookup('localhost', { all: true }, (e) => done(e)))
    expect(error).toBeInstanceOf(TargetNotAllowedError)
    expect((error as TargetNotAllowedError).kind).toBe('loopback')
  })
})

describe('targetNotAllowedIn', () => {
  it('finds a refusal wrapped as a cause', () => {
    const refusal = new TargetNotAllowedError('10.0.0.1', '10.0.0.1', 'private')
    expect(targetNotAllowedIn(new Error('fetch failed', { cause: refusal }))).toBe(refusal)
    expect(targetNotAllowedIn(new Error('ECONNREFUSED'))).toBeNull()
    expect(targetNotAllowedIn('nope')).toBeNull()
  })
})
