import { describe, expect, test } from 'vitest'
import { apiCommand } from './api.js'
import { placeGlobalFlags, prepareCommandLine } from './argv.js'

const place = (line: string) => placeGlobalFlags(apiCommand, line.split(' '))

describe('placeGlobalFlags', () => {
  test('moves global flags written before the command behind its name, values included', async () => {
    expect(await place('--url http://h:8090/api/v1 --token-file t sites list --q x')).toEqual(
      'sites list --url http://h:8090/api/v1 --token-file t --q x'.split(' '),
    )
    expect(await place('--output=json --pretty --verbose health')).toEqual(
      'health --output=json --pretty --verbose'.split(' '),
    )
    expect(await place('sites --timeout 5 endpoints --no-pretty get 7')).toEqual(
      'sites endpoints get --timeout 5 --no-pretty 7'.split(' '),
    )
    expect(await place('--allow-remote --tokenFile t sites delete 42')).toEqual(
      'sites delete --allow-remote --tokenFile t 42'.split(' '),
    )
  })

  test('leaves everything after the command, and other flags, where they are', async () => {
    expect(await place('sites list --url u --q --url')).toEqual('sites list --url u --q --url'.split(' '))
    expect(await place('request GET /me --url u')).toEqual('request GET /me --url u'.split(' '))
    expect(await place('--help --url u sites')).toEqual('--help sites'.split(' '))
  })

  test('an unknown command keeps its name first; no command at all drops the flags', async () => {
    expect(await place('--url u sitez list')).toEqual('sitez --url u list'.split(' '))
    expect(await place('--url u')).toEqual([])
    expect(await place('--url u -- sites list')).toEqual('-- sites list'.split(' '))
  })

  test('only jetmon2 api command lines change', async () => {
    expect(await prepareCommandLine(['api', '--url', 'u', 'health'])).toEqual(['api', 'health', '--url', 'u'])
    expect(await prepareCommandLine(['keys', '--url', 'u', 'list'])).toEqual(['keys', '--url', 'u', 'list'])
  })
})
