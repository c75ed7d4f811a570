/**
 * An in-memory stand-in for the session-taint table behind `aws-sdk-client-mock`: GetItem and UpdateItem with the
 * subset of DynamoDB's update expressions a sticky taint may use (ADD to a string set, SET of another attribute) and
 * ReturnValues ALL_NEW. Anything else (REMOVE, DELETE, SET of the labels, conditions, another table, an eventually
 * consistent read) throws, so a taint that could shrink, or a read that could miss a write, fails the test instead of
 * passing it.
 */
import { AttributeValue, DynamoDBClient, GetItemCommand, GetItemCommandInput, UpdateItemCommand, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { AwsStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/** The table name the tests configure. */
export const TAINT_TABLE = 'session-taint';

function nameOf(token: string, names: Record<string, string> | undefined): string {
  const name = names?.[token];
  if (!token.startsWith('#') || name === undefined) throw new Error(`fake-taint-table: undefined name ${token}`);
  return name;
}

function valueOf(token: string, values: Record<string, AttributeValue> | undefined): AttributeValue {
  const value = values?.[token];
  if (value === undefined) throw new Error(`fake-taint-table: undefined value ${token}`);
  return value;
}

/** Applies `ADD #a :v` (string sets) and `SET #a = :v` clauses to a copy of an item. */
export function applyTaintUpdate(input: UpdateItemCommandInput, current: Item): Item {
  if (input.ConditionExpression !== undefined) throw new Error('fake-taint-table: a taint write needs no condition');
  const out: Item = structuredClone(current);
  const clauses = String(input.UpdateExpression)
    .split(/\b(?=ADD |SET |REMOVE |DELETE )/)
    .map((c) => c.trim())
    .filter(Boolean);
  for (const clause of clauses) {
    let m = /^ADD (#\w+) (:\w+)$/.exec(clause);
    if (m) {
      const name = nameOf(m[1], input.ExpressionAttributeNames);
      const add = valueOf(m[2], input.ExpressionAttributeValues).SS;
      if (!Array.isArray(add) || add.length === 0 || new Set(add).size !== add.length) throw new Error('fake-taint-table: ADD takes a non-empty string set');
      const existing = out[name];
      if (existing !== undefined && existing.SS === undefined) throw new Error('fake-taint-table: ADD to a value that is not a string set');
      out[name] = { SS: [...new Set([...(existing?.SS ?? []), ...add])] };
      continue;
    }
    m = /^SET (#\w+) = (:\w+)$/.exec(clause);
    if (m) {
      const name = nameOf(m[1], input.ExpressionAttributeNames);
      // Overwriting the labels could shrink them: only ADD may touch them.
      if (name === 'caps') throw new Error('fake-taint-table: SET of the capability set');
      out[name] = valueOf(m[2], input.ExpressionAttributeValues);
      continue;
    }
    throw new Error(`fake-taint-table: unsupported clause ${clause}`);
  }
  return out;
}

/** The in-memory table. */
export class FakeTaintTable {
  public readonly items = new Map<string, Item>();
  public reads = 0;
  public writes = 0;

  /** Installs the fake on a DynamoDB client mock (call after `mock.reset()`). */
  public install(mock: AwsStub<any, any, any>): void {
    mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
      if (input.TableName !== TAINT_TABLE) throw new Error(`fake-taint-table: GetItem on ${input.TableName}`);
      if (input.ConsistentRead !== true) throw new Error('fake-taint-table: reads must be strongly consistent');
      this.reads++;
      const item = this.items.get(String(input.Key?.id?.S));
      return item ? { Item: structuredClone(item) } : {};
    });
    mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      if (input.TableName !== TAINT_TABLE) throw new Error(`fake-taint-table: UpdateItem on ${input.TableName}`);
      const id = String(input.Key?.id?.S);
      this.writes++;
      const next = applyTaintUpdate(input, this.items.get(id) ?? { id: { S: id } });
      this.items.set(id, next);
      return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
    });
  }

  /** The capability labels stored for an item id, sorted (none when there is no item). */
  public capabilitiesOf(id: string): string[] {
    return [...(this.items.get(id)?.caps?.SS ?? [])].sort();
  }
}

/** A DynamoDB client for the mock (region and credentials set so that no environment is read). */
export function testTaintClient(): DynamoDBClient {
  return new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
}
