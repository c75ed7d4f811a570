import { Lazy } from 'aws-cdk-lib';
import { throwIfInvalid, validateCidr, validateInteger, validatePattern, validateRange } from '../../../lib/private/validation';

describe('prop validators name the bad value and what is allowed', () => {
  test.each<[string, string[], string[]]>([
    ['range: inside', validateRange('rate', 5, 1, 10), []],
    ['range: below', validateRange('rate', 0, 1, 10), ['rate is 0; allowed: a number from 1 to 10']],
    ['range: NaN', validateRange('rate', NaN, 1, 10), ['rate is NaN; allowed: a number from 1 to 10']],
    ['range: absent', validateRange('rate', undefined, 1, 10), []],
    ['integer: fraction', validateInteger('count', 2.5, 1, 10), ['count is 2.5; allowed: a whole number from 1 to 10']],
    ['integer: above', validateInteger('count', 11, 1, 10), ['count is 11; allowed: a whole number from 1 to 10']],
    ['integer: token passes (checked at deploy)', validateInteger('count', Lazy.number({ produce: () => 99 }), 1, 10), []],
    ['pattern: mismatch', validatePattern('name', 'a b', /^\S+$/, 'no spaces'), ['name is "a b"; allowed: no spaces']],
    ['pattern: token passes', validatePattern('name', Lazy.string({ produce: () => 'a b' }), /^\S+$/, 'no spaces'), []],
    ['cidr: valid', validateCidr('cidr', '10.0.0.0/16'), []],
    ['cidr: octet over 255', validateCidr('cidr', '10.0.0.256/16'), ['cidr is "10.0.0.256/16"; allowed: an IPv4 CIDR block such as 10.0.0.0/16']],
    ['cidr: prefix over 32', validateCidr('cidr', '10.0.0.0/33'), ['cidr is "10.0.0.0/33"; allowed: an IPv4 CIDR block such as 10.0.0.0/16']],
    ['cidr: no prefix', validateCidr('cidr', '10.0.0.0'), ['cidr is "10.0.0.0"; allowed: an IPv4 CIDR block such as 10.0.0.0/16']],
  ])('%s', (_name, errors, expected) => {
    expect(errors).toEqual(expected);
  });

  test('throwIfInvalid lists every problem under the construct name, and passes when there is none', () => {
    expect(() => throwIfInvalid('Thing', ['a is 1; allowed: 2', 'b is x; allowed: y'])).toThrow('Thing: invalid props:\n  - a is 1; allowed: 2\n  - b is x; allowed: y');
    expect(() => throwIfInvalid('Thing', [])).not.toThrow();
  });
});
